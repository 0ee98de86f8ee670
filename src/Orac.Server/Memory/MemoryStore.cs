using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Orac.Model.Wire;
using Orac.Server.Fleet;

namespace Orac.Server.Memory;

/// <summary>
/// Saved memories and personas per (org, user), in <c>DATA/memory/ORG/USER.json</c> and <c>USER.persona.json</c>
/// (docs/ask.md "Memory", "Persona"), or in memory for <c>serve --memory</c>. Every change of a user's files runs
/// under that user's lock and is written whole (temporary file, fsync, rename). Files are read on every request, so a
/// file fixed or removed by hand counts at once; a damaged file is a <see cref="MemoryFileException"/> for that user
/// only. Refusals a caller can act on are <see cref="ApiException"/>s (400, 404, 409).
/// </summary>
internal sealed class MemoryStore
{
    private readonly string? _dataDirectory;
    private readonly Func<string, MemoryFact> _readFact;
    private readonly Func<long> _nowMs;
    private readonly ConcurrentDictionary<string, Lock> _locks = new(StringComparer.Ordinal);

    // serve --memory: the same bytes as the files would hold, by relative path.
    private readonly ConcurrentDictionary<string, byte[]> _inMemory = new(StringComparer.Ordinal);

    /// <summary>A store under <paramref name="dataDirectory"/> (null: in memory); <paramref name="readFact"/> reads a memory's text when it is saved.</summary>
    public MemoryStore(string? dataDirectory, Func<string, MemoryFact> readFact, Func<long>? nowMs = null)
    {
        _dataDirectory = dataDirectory;
        _readFact = readFact;
        _nowMs = nowMs ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    /// <summary>
    /// The file name (without <c>.json</c>) of <paramref name="user"/>: the name itself when it is
    /// <c>[A-Za-z0-9][A-Za-z0-9._@-]{0,63}</c> and does not end in <c>.persona</c>, else <c>_</c> and 32 hex digits of
    /// its SHA-256 (names with '/', spaces or other characters never reach the file system as given).
    /// </summary>
    public static string FileStem(string user)
    {
        bool plain = user.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(user[0]) && !user.EndsWith(".persona", StringComparison.OrdinalIgnoreCase);
        foreach (char c in user)
        {
            plain &= char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '-';
        }

        if (plain)
        {
            return user;
        }

        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(user));
        return "_" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    /// <summary>The user's memory document (a user with no file has memory on and no items).</summary>
    public MemoryDocument Read(string org, string user)
    {
        lock (Gate(org, user))
        {
            return Document(org, user, LoadMemory(org, user));
        }
    }

    /// <summary>The user's memory items to use, oldest first; empty when memory is off.</summary>
    public List<MemoryItem> Usable(string org, string user)
    {
        lock (Gate(org, user))
        {
            MemoryFile f = LoadMemory(org, user);
            return f.Enabled ? f.Items : [];
        }
    }

    /// <summary>
    /// Saves one memory. 400 for a bad text or source; 409 while memory is off, or when 200 items are kept and none
    /// is a plain note (otherwise the oldest note makes room).
    /// </summary>
    public MemoryItem Add(string org, string user, string? text, string? source)
    {
        string t = (text ?? "").Trim();
        string? problem = MemoryFiles.CheckText(t, MemoryFiles.MaxTextChars, allowNewlines: false);
        if (problem is not null)
        {
            throw new ApiException(400, $"memory text {problem} (1 to {MemoryFiles.MaxTextChars} characters, one line)");
        }

        string src = string.IsNullOrEmpty(source) ? "api" : source;
        if (Array.IndexOf(MemoryFiles.Sources, src) < 0)
        {
            throw new ApiException(400, $"bad source '{MemoryFiles.Show(src)}': expected one of {string.Join(", ", MemoryFiles.Sources)}");
        }

        MemoryFact fact = _readFact(t);
        lock (Gate(org, user))
        {
            MemoryFile f = LoadMemory(org, user);
            if (!f.Enabled)
            {
                throw new ApiException(409, "memory is off for you: nothing is saved until 'orac memory on' (PUT /api/v1/memory/settings {\"enabled\":true})");
            }

            if (f.Items.Count >= MemoryFiles.MaxItems)
            {
                int oldestNote = f.Items.FindIndex(i => i.Fact.Kind == "note");
                if (oldestNote < 0)
                {
                    throw new ApiException(409, $"memory is full ({MemoryFiles.MaxItems} items, none of them a plain note): forget some first ('orac memory forget ID')");
                }

                f.Items.RemoveAt(oldestNote);
            }

            var item = new MemoryItem { Id = "m" + f.NextId, Text = t, Source = src, CreatedMs = _nowMs(), Fact = fact };
            f.NextId++;
            f.Items.Add(item);
            SaveMemory(org, user, f);
            return item;
        }
    }

    /// <summary>Forgets the item <paramref name="id"/>; 404 when there is none.</summary>
    public List<MemoryItem> ForgetId(string org, string user, string id)
    {
        lock (Gate(org, user))
        {
            MemoryFile f = LoadMemory(org, user);
            int i = f.Items.FindIndex(x => x.Id == id);
            if (i < 0)
            {
                throw new ApiException(404, $"no memory {MemoryFiles.Show(id)} (see 'orac memory list')");
            }

            MemoryItem gone = f.Items[i];
            f.Items.RemoveAt(i);
            SaveMemory(org, user, f);
            return [gone];
        }
    }

    /// <summary>Forgets the one item whose text holds <paramref name="words"/> (case-insensitive); 404 for none, 400 listing them for several.</summary>
    public List<MemoryItem> ForgetText(string org, string user, string words)
    {
        string w = words.Trim();
        if (w.Length == 0)
        {
            throw new ApiException(400, "text= is empty: name words of the memory to forget, or DELETE /api/v1/memory to forget everything");
        }

        lock (Gate(org, user))
        {
            MemoryFile f = LoadMemory(org, user);
            List<MemoryItem> hits = f.Items.FindAll(x => x.Text.Contains(w, StringComparison.OrdinalIgnoreCase));
            if (hits.Count == 0)
            {
                throw new ApiException(404, $"no memory holds '{MemoryFiles.Show(w)}' (see 'orac memory list')");
            }

            if (hits.Count > 1)
            {
                var list = new StringBuilder();
                foreach (MemoryItem h in hits)
                {
                    list.Append(list.Length == 0 ? "" : "; ").Append(h.Id).Append(" \"").Append(Orac.Server.Auth.AuthStore.Escape(h.Text)).Append('"');
                }

                throw new ApiException(400, $"'{MemoryFiles.Show(w)}' matches {hits.Count} memories: {list}; forget one by id");
            }

            f.Items.Remove(hits[0]);
            SaveMemory(org, user, f);
            return hits;
        }
    }

    /// <summary>Forgets everything (ids still never come back).</summary>
    public List<MemoryItem> Clear(string org, string user)
    {
        lock (Gate(org, user))
        {
            MemoryFile f = LoadMemory(org, user);
            List<MemoryItem> gone = f.Items;
            if (gone.Count > 0)
            {
                f.Items = [];
                SaveMemory(org, user, f);
            }

            return gone;
        }
    }

    /// <summary>Turns memory on or off (items are kept).</summary>
    public MemoryDocument SetEnabled(string org, string user, bool enabled)
    {
        lock (Gate(org, user))
        {
            MemoryFile f = LoadMemory(org, user);
            if (f.Enabled != enabled)
            {
                f.Enabled = enabled;
                SaveMemory(org, user, f);
            }

            return Document(org, user, f);
        }
    }

    /// <summary>The user's persona (the default when none was set).</summary>
    public PersonaDocument Persona(string org, string user)
    {
        lock (Gate(org, user))
        {
            return PersonaDoc(LoadPersona(org, user));
        }
    }

    /// <summary>Sets the given fields (null keeps, empty clears); 400 for a field over 1,000 characters.</summary>
    public PersonaDocument SetPersona(string org, string user, string? about, string? respond)
    {
        foreach ((string field, string? value) in new[] { ("about", about), ("respond", respond) })
        {
            string? problem = value is null ? null : MemoryFiles.CheckText(value, MemoryFiles.MaxPersonaChars, allowNewlines: true, allowEmpty: true);
            if (problem is not null)
            {
                throw new ApiException(400, $"persona {field} {problem} (at most {MemoryFiles.MaxPersonaChars} characters)");
            }
        }

        lock (Gate(org, user))
        {
            PersonaFile p = LoadPersona(org, user);
            p.About = about?.Trim() ?? p.About;
            p.Respond = respond?.Trim() ?? p.Respond;
            p.UpdatedMs = _nowMs();
            if (p.About.Length == 0 && p.Respond.Length == 0)
            {
                Delete(org, user, persona: true);
                return PersonaDoc(new PersonaFile());
            }

            Write(org, user, persona: true, MemoryFiles.Serialize(p));
            return PersonaDoc(p);
        }
    }

    /// <summary>Back to the default persona.</summary>
    public PersonaDocument ResetPersona(string org, string user)
    {
        lock (Gate(org, user))
        {
            Delete(org, user, persona: true);
            return PersonaDoc(new PersonaFile());
        }
    }

    private static MemoryDocument Document(string org, string user, MemoryFile f) =>
        new() { User = user, Org = org, Enabled = f.Enabled, Items = f.Items };

    private static PersonaDocument PersonaDoc(PersonaFile p)
    {
        bool isDefault = p.About.Length == 0 && p.Respond.Length == 0;
        return new PersonaDocument
        {
            About = p.About,
            Respond = p.Respond,
            Voice = Orac.Ask.PersonaVoice.For(p.Respond),
            IsDefault = isDefault,
            UpdatedMs = isDefault ? 0 : p.UpdatedMs,
        };
    }

    private Lock Gate(string org, string user) => _locks.GetOrAdd(org + "/" + user, _ => new Lock());

    /// <summary>The path of a user's file relative to the data folder, as errors name it.</summary>
    public static string RelativePath(string org, string user, bool persona) =>
        $"memory/{org}/{FileStem(user)}{(persona ? ".persona" : "")}.json";

    private MemoryFile LoadMemory(string org, string user)
    {
        byte[]? bytes = ReadBytes(org, user, persona: false);
        return bytes is null ? new MemoryFile { User = user } : MemoryFiles.ParseMemory(bytes, RelativePath(org, user, persona: false));
    }

    private PersonaFile LoadPersona(string org, string user)
    {
        byte[]? bytes = ReadBytes(org, user, persona: true);
        return bytes is null ? new PersonaFile() : MemoryFiles.ParsePersona(bytes, RelativePath(org, user, persona: true));
    }

    private void SaveMemory(string org, string user, MemoryFile f)
    {
        f.User = user;
        Write(org, user, persona: false, MemoryFiles.Serialize(f));
    }

    private byte[]? ReadBytes(string org, string user, bool persona)
    {
        string rel = RelativePath(org, user, persona);
        if (_dataDirectory is null)
        {
            return _inMemory.TryGetValue(rel, out byte[]? b) ? b : null;
        }

        string path = Path.Combine(_dataDirectory, rel);
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (fs.Length > MemoryFiles.MaxFileBytes)
            {
                throw new MemoryFileException($"{rel} is damaged: is {fs.Length} bytes, more than {MemoryFiles.MaxFileBytes}; fix or remove that file (nothing else was changed)");
            }

            byte[] bytes = new byte[fs.Length];
            fs.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MemoryFileException($"{rel} cannot be read: {e.Message}");
        }
    }

    private void Write(string org, string user, bool persona, byte[] bytes)
    {
        string rel = RelativePath(org, user, persona);
        if (_dataDirectory is null)
        {
            _inMemory[rel] = bytes;
            return;
        }

        string path = Path.Combine(_dataDirectory, rel);
        AtomicFile.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    private void Delete(string org, string user, bool persona)
    {
        string rel = RelativePath(org, user, persona);
        if (_dataDirectory is null)
        {
            _inMemory.TryRemove(rel, out _);
            return;
        }

        try
        {
            File.Delete(Path.Combine(_dataDirectory, rel));
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was ever saved for this org.
        }
    }
}
