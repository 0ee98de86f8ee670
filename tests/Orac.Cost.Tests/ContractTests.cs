using Orac.Model.Wire;

namespace Orac.Cost.Tests;

public class ContractTests
{
    [Fact]
    public void CostDocumentRoundTripsThroughTheSourceGeneratedContext()
    {
        var doc = new CostDocument { Total = new CostFigures { Usd = 1.25, EnergyBasis = Basis.Measured }, Idle = new CostFigures(), ProjectedPerYear = new CostFigures() };
        string json = System.Text.Json.JsonSerializer.Serialize(doc, OracJsonContext.Default.CostDocument);
        CostDocument back = System.Text.Json.JsonSerializer.Deserialize(json, OracJsonContext.Default.CostDocument)!;
        Assert.Equal(1.25, back.Total.Usd);
        Assert.Equal("measured", back.Total.EnergyBasis);
        Assert.Contains("\"energyBasis\"", json, StringComparison.Ordinal);
    }
}
