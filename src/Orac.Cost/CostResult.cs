using Orac.Model.Wire;

namespace Orac.Cost;

/// <summary>
/// The finest attributed unit: one function's self CPU time in one (org, service), summed over hosts, with its
/// priced figures. Opportunities and org reports are built from these; they add up to the attributed total.
/// </summary>
public sealed record FunctionCost(string Org, string Service, string Function, string Module, CostFigures Figures);

/// <summary>A computed cost answer: the document, every function atom (not only the top N), and the per-year factor.</summary>
public sealed record CostResult(CostDocument Document, IReadOnlyList<FunctionCost> Atoms, double YearFactor);
