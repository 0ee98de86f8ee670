using System.Text;
using Orac.Model;

namespace Orac.Formats.Svg;

/// <summary>
/// The consistent palette of <c>--cp</c>: a file of <c>name-&gt;rgb(r,g,b)</c> lines read before
/// rendering; names not in it get the palette's colour and are added; the file is rewritten sorted
/// bytewise by name afterwards, so the next graph colours the same names the same way.
/// </summary>
public sealed class PaletteMap
{
    private readonly Dictionary<string, (int, int, int)> _map = new(StringComparer.Ordinal);
    private readonly string _path;

    private PaletteMap(string path) => _path = path;

    /// <summary>Reads <paramref name="path"/> when it exists.</summary>
    public static PaletteMap Load(string path)
    {
        var map = new PaletteMap(path);
        if (!File.Exists(path))
        {
            return map;
        }

        try
        {
            foreach (string line in File.ReadLines(path))
            {
                int arrow = line.IndexOf("->", StringComparison.Ordinal);
                if (arrow < 0 || !TryParseRgb(line.AsSpan(arrow + 2).Trim(), out (int, int, int) rgb))
                {
                    continue;
                }

                map._map[line[..arrow]] = rgb;
            }
        }
        catch (IOException e)
        {
            throw new OracException($"{path}: cannot read palette: {e.Message}");
        }

        return map;
    }

    private static bool TryParseRgb(ReadOnlySpan<char> s, out (int, int, int) rgb)
    {
        rgb = default;
        if (!s.StartsWith("rgb(") || !s.EndsWith(")"))
        {
            return false;
        }

        s = s[4..^1];
        Span<int> v = stackalloc int[3];
        for (int i = 0; i < 3; i++)
        {
            int comma = s.IndexOf(',');
            ReadOnlySpan<char> part = i < 2 ? (comma < 0 ? default : s[..comma]) : s;
            if (!int.TryParse(part, out v[i]))
            {
                return false;
            }

            s = i < 2 ? s[(comma + 1)..] : s;
        }

        rgb = (v[0], v[1], v[2]);
        return true;
    }

    /// <summary>The colour of <paramref name="name"/>, assigning one from <paramref name="palette"/> when new.</summary>
    public (int, int, int) Get(ReadOnlySpan<byte> name, FlamePalette palette)
    {
        string key = Encoding.UTF8.GetString(name);
        if (!_map.TryGetValue(key, out (int, int, int) rgb))
        {
            rgb = palette.Color(name);
            _map[key] = rgb;
        }

        return rgb;
    }

    /// <summary>Writes the map back, sorted by name.</summary>
    public void Save()
    {
        var keys = new List<string>(_map.Keys);
        keys.Sort(StringComparer.Ordinal);
        var sb = new StringBuilder();
        foreach (string k in keys)
        {
            (int r, int g, int b) = _map[k];
            sb.Append(k).Append("->rgb(").Append(r).Append(',').Append(g).Append(',').Append(b).Append(")\n");
        }

        try
        {
            File.WriteAllText(_path, sb.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OracException($"{_path}: cannot write palette: {e.Message}");
        }
    }
}
