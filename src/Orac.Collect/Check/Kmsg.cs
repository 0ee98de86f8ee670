using System.Runtime.InteropServices;
using Orac.Model;

namespace Orac.Collect.Check;

/// <summary>
/// Non-blocking read of the records already in the kernel log buffer through /dev/kmsg: each read()
/// returns one record; EAGAIN means none is left (a blocking read would wait for the next message).
/// </summary>
internal static partial class Kmsg
{
    private const int ORdOnly = 0;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int EAgain = 11;
    private const int EPipe = 32;
    private const int EPerm = 1;
    private const int EAcces = 13;

    /// <summary>Largest number of bytes read, so a huge log cannot take unbounded memory.</summary>
    public const int MaxBytes = 4 << 20;

    /// <summary>Reads every record now in the buffer, each ending with '\n'.</summary>
    public static byte[] ReadAll(string path)
    {
        int fd = Open(path, ORdOnly | ONonBlock | OCloExec);
        if (fd < 0)
        {
            int err = Marshal.GetLastPInvokeError();
            throw err is EPerm or EAcces
                ? new UnauthorizedAccessException($"{path}: permission denied")
                : new IOException($"{path}: open failed (errno {err})");
        }

        try
        {
            var output = new MemoryStream();
            byte[] buf = new byte[8192];
            while (output.Length < MaxBytes)
            {
                nint n = Read(fd, buf, buf.Length);
                if (n > 0)
                {
                    output.Write(buf, 0, (int)n);
                    continue;
                }

                if (n == 0)
                {
                    break;
                }

                int err = Marshal.GetLastPInvokeError();
                if (err == EPipe)
                {
                    // Records were overwritten while reading: the next read continues from the oldest left.
                    continue;
                }

                if (err == EAgain)
                {
                    break;
                }

                throw new IOException($"{path}: read failed (errno {err})");
            }

            return output.ToArray();
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, [Out] byte[] buf, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
