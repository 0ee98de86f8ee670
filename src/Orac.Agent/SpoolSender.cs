using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace Orac.Agent;

/// <summary>
/// Drains the <see cref="Spool"/> oldest first. 2xx: the file is deleted and its samples counted uploaded.
/// 400, 413, 415: the server will never take it; deleted, counted rejected and logged. Anything else
/// (network error, 5xx, 401, 403, 429, …): kept and retried with backoff. One line is logged when an
/// outage starts and one when it ends, with how many uploads were replayed.
/// </summary>
public sealed class SpoolSender
{
    private readonly Spool _spool;
    private readonly AgentHttp _http;
    private readonly TextWriter _log;
    private readonly Backoff _backoff;
    private long _uploadedSamples;
    private long _uploadedFiles;
    private long _rejectedFiles;
    private long _rejectedSamples;
    private long _duplicates;
    private long _duplicateSamples;
    private long _outageStartedAt;
    private long _replayed;
    private string? _outageReason;

    /// <summary>A sender for <paramref name="spool"/> through <paramref name="http"/>.</summary>
    public SpoolSender(Spool spool, AgentHttp http, TextWriter log, TimeSpan? maxBackoff = null)
    {
        _spool = spool;
        _http = http;
        _log = log;
        _backoff = new Backoff(TimeSpan.FromSeconds(1), maxBackoff ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>Samples in uploads the server acknowledged (2xx), since the sender started.</summary>
    public long UploadedSamples => Interlocked.Read(ref _uploadedSamples);

    /// <summary>Uploads the server acknowledged.</summary>
    public long UploadedFiles => Interlocked.Read(ref _uploadedFiles);

    /// <summary>Uploads the server refused for good (400, 413, 415), deleted.</summary>
    public long RejectedFiles => Interlocked.Read(ref _rejectedFiles);

    /// <summary>Samples in those.</summary>
    public long RejectedSamples => Interlocked.Read(ref _rejectedSamples);

    /// <summary>Uploads the server said it already had (<c>duplicate: true</c>): a replay after a lost answer.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Samples in those duplicates (included in <see cref="UploadedSamples"/>; the server counted them once before).</summary>
    public long DuplicateSamples => Interlocked.Read(ref _duplicateSamples);

    /// <summary>True while the server is unreachable or refusing uploads for a reason that may pass.</summary>
    public bool InOutage => Interlocked.Read(ref _outageStartedAt) != 0;

    /// <summary>Sends until <paramref name="stop"/>; waits for new uploads when the spool is empty.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            bool sent;
            try
            {
                sent = await SendOldestAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }

            try
            {
                if (sent)
                {
                    continue;
                }

                if (InOutage)
                {
                    await Task.Delay(_backoff.Next(), stop).ConfigureAwait(false);
                }
                else
                {
                    await _spool.WaitForAddedAsync(TimeSpan.FromSeconds(5), stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The final attempt on shutdown: sends what is waiting until the spool is empty, the server fails once, or
    /// <paramref name="budget"/> passes. What is not sent stays on disk for the next start.
    /// </summary>
    public async Task DrainAsync(TimeSpan budget)
    {
        using var cts = new CancellationTokenSource(budget);
        try
        {
            while (await SendOldestAsync(cts.Token).ConfigureAwait(false))
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends the oldest upload once; true when it left the spool (acknowledged or refused for good).</summary>
    private async Task<bool> SendOldestAsync(CancellationToken cancel)
    {
        if (_spool.TakeOldest() is not (long seq, SpoolEntry entry))
        {
            EndOutage(); // nothing left: a replay is over
            return false;
        }

        HttpAnswer answer;
        try
        {
            using var content = new ReadOnlyMemoryContent(entry.Body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(entry.ContentType);
            answer = await _http.SendAsync(HttpMethod.Post, entry.PathAndQuery, content, entry.UploadId, cancel).ConfigureAwait(false);
        }
        catch
        {
            _spool.Release(seq);
            throw;
        }

        if (answer.Ok)
        {
            _spool.Complete(seq);
            Interlocked.Add(ref _uploadedSamples, entry.Samples);
            Interlocked.Increment(ref _uploadedFiles);
            if (IsDuplicate(answer.Body))
            {
                Interlocked.Increment(ref _duplicates);
                Interlocked.Add(ref _duplicateSamples, entry.Samples);
            }

            if (InOutage)
            {
                _replayed++;
            }

            _backoff.Reset();
            return true;
        }

        if (answer.Status is 400 or 413 or 415)
        {
            _spool.Complete(seq);
            Interlocked.Increment(ref _rejectedFiles);
            Interlocked.Add(ref _rejectedSamples, entry.Samples);
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"orac agent: upload {entry.UploadId} refused by the server ({answer.Describe()}); dropped ({entry.Samples:N0} samples)"));
            return true;
        }

        _spool.Release(seq);
        StartOutage(answer.Describe());
        return false;
    }

    private static bool IsDuplicate(byte[] body) =>
        body.AsSpan().IndexOf("\"duplicate\":true"u8) >= 0 || body.AsSpan().IndexOf("\"duplicate\": true"u8) >= 0;

    private void StartOutage(string why)
    {
        if (Interlocked.CompareExchange(ref _outageStartedAt, Stopwatch.GetTimestamp(), 0) == 0)
        {
            _replayed = 0;
            _outageReason = why;
            _log.WriteLine($"orac agent: uploads failing ({why}); keeping them in {_spool.Directory} and retrying with backoff");
        }
    }

    private void EndOutage()
    {
        long started = Interlocked.Exchange(ref _outageStartedAt, 0);
        if (started != 0)
        {
            TimeSpan lasted = Stopwatch.GetElapsedTime(started);
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"orac agent: uploads flowing again after {lasted.TotalSeconds:0.0} s ({_outageReason}); replayed {_replayed:N0} uploads from the spool"));
            _replayed = 0;
        }
    }
}
