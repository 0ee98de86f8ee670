using Orac.Server.Fleet;
using Xunit;

namespace Orac.Server.Tests.Fleet;

/// <summary>The upload-id ledger: exact answers for what it remembers, memory bounded by senders, file compacted.</summary>
public sealed class UploadLedgerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orac-ledger-" + Guid.NewGuid().ToString("N"));

    public UploadLedgerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<bool> Store(UploadLedger ledger, string org, string id)
    {
        if (!await ledger.ReserveAsync(org, id, CancellationToken.None))
        {
            return false;
        }

        ledger.Commit(org, id);
        return true;
    }

    [Theory]
    [InlineData("agent-7-1764400000000", true, "agent-7", 1764400000000L)]
    [InlineData("a-1", true, "a", 1L)]
    [InlineData("agent-1:42", false, "", 0L)]
    [InlineData("-5", false, "", 0L)]
    [InlineData("x-", false, "", 0L)]
    [InlineData("x-1234567890123456789", false, "", 0L)]
    public void SenderSequenceIds_AreSplit(string id, bool ok, string sender, long seq)
    {
        Assert.Equal(ok, UploadLedger.TrySplit(id, out string s, out long n));
        Assert.Equal(sender, s);
        Assert.Equal(seq, n);
    }

    [Fact]
    public async Task EachSender_KeepsItsLatestIds_AndMemoryStaysBounded()
    {
        using var ledger = UploadLedger.Open(null, _ => { });
        for (int agent = 0; agent < 10; agent++)
        {
            for (int seq = 1; seq <= 1000; seq++)
            {
                Assert.True(await Store(ledger, "org", $"agent{agent}-{seq}"));
            }
        }

        // 10 senders × 1,000 uploads, but only each sender's last PerSender are held.
        Assert.Equal(10 * UploadLedger.PerSender, ledger.Count);

        // A replay of any recent upload is a duplicate; the same id in another org is not.
        Assert.False(await Store(ledger, "org", "agent3-1000"));
        Assert.False(await Store(ledger, "org", $"agent3-{1000 - UploadLedger.PerSender + 1}"));
        Assert.True(await Store(ledger, "other", "agent3-1000"));

        // Ids of other shapes are remembered exactly.
        Assert.True(await Store(ledger, "org", "client:abc"));
        Assert.False(await Store(ledger, "org", "client:abc"));
    }

    [Fact]
    public async Task File_IsCompactedToWhatIsRemembered_AndReloadsTheSameAnswers()
    {
        string file = Path.Combine(_dir, UploadLedger.FileName);
        using (var ledger = UploadLedger.Open(_dir, _ => { }))
        {
            for (int seq = 1; seq <= 500; seq++)
            {
                Assert.True(await Store(ledger, "org", $"a-{seq}"));
            }
        }

        Assert.Equal(500, File.ReadAllLines(file).Length);
        using (var reopened = UploadLedger.Open(_dir, _ => { }))
        {
            // Reopening rewrote the file with only the remembered window.
            Assert.Equal(UploadLedger.PerSender, File.ReadAllLines(file).Length);
            Assert.Equal(UploadLedger.PerSender, reopened.Count);
            Assert.False(await Store(reopened, "org", "a-500"));
            Assert.True(await Store(reopened, "org", "a-501"));
        }

        Assert.EndsWith("\ta-501\t", File.ReadAllLines(file)[^1][..(File.ReadAllLines(file)[^1].LastIndexOf('\t') + 1)], StringComparison.Ordinal);
    }
}
