using Orac.Ask;

namespace Orac.Server.Tests.Memory;

/// <summary><see cref="PersonaVoice.For"/>: a respond text asking for a neutral tone gives the plain voice (docs/ask.md "Persona").</summary>
public sealed class PersonaVoiceTests
{
    [Theory]
    [InlineData("plain")]
    [InlineData("Plain and brief, no jokes.")]
    [InlineData("neutral tone please")]
    [InlineData("Keep it FORMAL")]
    [InlineData("be serious")]
    [InlineData("professional answers only")]
    [InlineData("no sarcasm")]
    [InlineData("Don\u2019t  joke")]
    [InlineData("just the facts")]
    [InlineData("short,\nno humour")]
    public void NeutralRequests_GiveThePlainVoice(string respond) => Assert.Equal("plain", PersonaVoice.For(respond));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("be brief and sharp")]
    [InlineData("sarcasm welcome")]
    [InlineData("explain like I'm new to perf")]
    [InlineData("airplane mode")]
    [InlineData("informality is fine")]
    public void EverythingElse_GivesOracsVoice(string? respond) => Assert.Equal("orac", PersonaVoice.For(respond));
}
