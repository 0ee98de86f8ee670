using System.Runtime.InteropServices;

namespace Orac.Collect.Symbols;

/// <summary>What identifies a file's contents cheaply: inode, size and modification time (from statx).</summary>
/// <param name="Inode">The inode number (0 when the platform could not say).</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="MtimeNs">Modification time, ns since the Unix epoch.</param>
/// <param name="OwnerUid">The owner's uid, or <see cref="UnknownUid"/> without statx.</param>
internal readonly record struct FileIdentity(ulong Inode, long Size, long MtimeNs, uint OwnerUid = FileIdentity.UnknownUid)
{
    /// <summary>Owner not known (no statx on this system).</summary>
    public const uint UnknownUid = uint.MaxValue;

    private static bool s_noStatx;

    /// <summary>
    /// Stats <paramref name="path"/> (following a final symlink unless <paramref name="followLinks"/>
    /// is false); false when it does not exist or cannot be read.
    /// </summary>
    public static bool TryGet(string path, out FileIdentity id, bool followLinks = true)
    {
        id = default;
        if (!s_noStatx)
        {
            try
            {
                return StatxNative.TryStatx(path, followLinks, out id);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Old libc without statx: no inode check, size and mtime from the BCL.
                s_noStatx = true;
            }
        }

        try
        {
            var fi = new FileInfo(path);
            if (!fi.Exists)
            {
                return false;
            }

            id = new FileIdentity(0, fi.Length, (fi.LastWriteTimeUtc.Ticks - DateTime.UnixEpoch.Ticks) * 100);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>statx(2), through the source-generated P/Invoke (AOT-safe, blittable).</summary>
internal static unsafe partial class StatxNative
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;

    public static bool TryStatx(string path, bool followLinks, out FileIdentity id)
    {
        // struct statx has one layout on every architecture: 256 bytes, stx_uid at 20, stx_ino at 32,
        // stx_size at 40, stx_mtime (i64 seconds, u32 ns) at 112.
        byte* buf = stackalloc byte[256];
        if (Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buf) != 0)
        {
            id = default;
            return false;
        }

        uint uid = *(uint*)(buf + 20);
        ulong ino = *(ulong*)(buf + 32);
        long size = *(long*)(buf + 40);
        long sec = *(long*)(buf + 112);
        uint nsec = *(uint*)(buf + 120);
        id = new FileIdentity(ino, size, (sec * 1_000_000_000) + nsec, uid);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
