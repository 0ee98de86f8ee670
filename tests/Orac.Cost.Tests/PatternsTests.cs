using CsCheck;
using Orac.Cost.Opportunities;
using Orac.Tests.Shared;

namespace Orac.Cost.Tests;

public class PatternsTests
{
    private const string Libc = "/lib/x86_64-linux-gnu/libc.so.6";
    private const string Kernel = "[kernel.kallsyms]";

    // (function, module, expected pattern id). Positives first, then near misses per pattern (expected null or another id).
    public static TheoryData<string, string, string?> Cases { get; } = new()
    {
        // memory copies
        { "memcpy", Libc, "memcpy" },
        { "__memcpy_avx_unaligned_erms", Libc, "memcpy" },
        { "__memmove_avx512_unaligned_erms", Libc, "memcpy" },
        { "copy_user_enhanced_fast_string", Kernel, "memcpy" },
        { "rep_movs_alternative", Kernel, "memcpy" },
        { "runtime.memmove", "", "memcpy" },
        { "System.Buffer.Memmove(ref byte, ref byte, nuint)", "", "memcpy" },
        { "memcmp", Libc, null },
        { "memset", Libc, null },
        { "copy_page_range", Kernel, null },
        { "MEMCPY", "", null },

        // page faults
        { "asm_exc_page_fault", Kernel, "page-faults" },
        { "handle_mm_fault", Kernel, "page-faults" },
        { "do_anonymous_page", Kernel, "page-faults" },
        { "clear_page_erms", Kernel, "page-faults" },
        { "flush_tlb_mm_range", Kernel, "page-faults" },
        { "handle_irq_event", Kernel, null },
        { "clear_user", Kernel, null },

        // allocation and GC
        { "malloc", Libc, "gc" },
        { "_int_malloc", Libc, "gc" },
        { "je_malloc", "", "gc" },
        { "tc_newarray", "", "gc" },
        { "operator new(unsigned long)", "", "gc" },
        { "_Znwm", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "gc" },
        { "runtime.mallocgc", "", "gc" },
        { "runtime.gcBgMarkWorker", "", "gc" },
        { "runtime.scanobject", "", "gc" },
        { "G1ParScanThreadState::trim_queue_partially", "/usr/lib/jvm/lib/server/libjvm.so", "gc" },
        { "WKS::gc_heap::mark_object_simple", "libcoreclr.so", "gc" },
        { "GCInterface::GarbageCollect", "", "gc" },
        { "gc_collect_main", "", "gc" },
        { "kmem_cache_alloc", Kernel, "gc" },
        { "anything", "/usr/lib/libjemalloc.so.2", "gc" },
        { "freeaddrinfo", Libc, null },
        { "tc_classify", Kernel, null },
        { "runtime.gopark", "", null },
        { "v8::internal::HeapObject::SizeFromMap", "/usr/bin/node", null },
        { "v8::internal::Heap::CollectGarbage", "/usr/bin/node", "gc" },
        { "malloc@plt", "/usr/bin/app", "gc" },
        { "mallocinfo_report", "", null },

        // locks and spinning
        { "pthread_mutex_lock", Libc, "locks" },
        { "pthread_mutex_lock@@GLIBC_2.2.5", Libc, "locks" },
        { "__lll_lock_wait", Libc, "locks" },
        { "futex_wait", Kernel, "locks" },
        { "native_queued_spin_lock_slowpath", Kernel, "locks" },
        { "_raw_spin_lock_irqsave", Kernel, "locks" },
        { "osq_lock", Kernel, "locks" },
        { "sync.(*Mutex).lockSlow", "", "locks" },
        { "absl::base_internal::SpinLock::SlowLock()", "", "locks" },
        { "pthread_self", Libc, null },
        { "pthread_create", Libc, null },

        // busy polling
        { "sched_yield", Libc, "busy-poll" },
        { "do_sched_yield", Kernel, "busy-poll" },
        { "napi_busy_loop", Kernel, "busy-poll" },
        { "sk_busy_poll", Kernel, "busy-poll" },
        { "_mm_pause", "", "busy-poll" },
        { "System.Threading.SpinWait.SpinOnce", "", "busy-poll" },
        { "node::SpinEventLoopInternal", "/usr/bin/node", null },
        { "_raw_spin_trylock", Kernel, "locks" },
        { "core::hint::spin_loop", "", "busy-poll" },
        { "runtime.procyield", "", "busy-poll" },
        { "epoll_wait", Libc, null },
        { "do_sys_poll", Kernel, null },

        // syscalls and context switches
        { "entry_SYSCALL_64_after_hwframe", Kernel, "syscalls" },
        { "do_syscall_64", Kernel, "syscalls" },
        { "syscall_exit_to_user_mode", Kernel, "syscalls" },
        { "__schedule", Kernel, "syscalls" },
        { "schedule", Kernel, "syscalls" },
        { "finish_task_switch.isra.0", Kernel, "syscalls" },
        { "syscall.Syscall6", "", "syscalls" },
        { "schedule_work", Kernel, null },
        { "__x64_sys_read", Kernel, null },

        // compression
        { "deflate_slow", "", "compression" },
        { "inflate_fast", "", "compression" },
        { "longest_match", "", "compression" },
        { "ZSTD_compressBlock_doubleFast", "", "compression" },
        { "LZ4_decompress_safe", "", "compression" },
        { "snappy::RawCompress(char const*, unsigned long, char*, unsigned long*)", "", "compression" },
        { "compress/flate.(*compressor).deflate", "", "compression" },
        { "some_static_fn", "/lib/x86_64-linux-gnu/libz.so.1.2.13", "compression" },
        { "compress_whitespace", "", null },
        { "inflight_count", "", null },
        { "anything", "/usr/lib/libzip.so.5", null },

        // JSON
        { "simdjson::fallback::dom_parser_implementation::parse", "", "json" },
        { "rapidjson::GenericReader<UTF8<char>>::ParseObject", "", "json" },
        { "encoding/json.(*decodeState).object", "", "json" },
        { "System.Text.Json.Utf8JsonReader.Read()", "", "json" },
        { "json_object_get", "", "json" },
        { "v8::internal::JsonParser<unsigned char>::ParseJson", "/usr/bin/node", "json" },
        { "scanstring_unicode", "/usr/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so", "json" },
        { "jsonnet_evaluate", "", null },
        { "JsonSerializer.Serialize", "", null },

        // protobuf
        { "google::protobuf::internal::WireFormatLite::ReadBytes", "", "protobuf" },
        { "google.golang.org/protobuf/internal/impl.(*MessageInfo).marshal", "", "protobuf" },
        { "proto.Marshal", "", "protobuf" },
        { "Google.Protobuf.CodedInputStream.ReadTag()", "", "protobuf" },
        { "proto_register", Kernel, null },
        { "protocol_handler", "", null },

        // crypto and hashing
        { "sha256_block_data_order_avx2", "/usr/lib/libcrypto.so.3", "crypto" },
        { "SHA256_Update", "", "crypto" },
        { "aesni_gcm_encrypt", "", "crypto" },
        { "EVP_DigestUpdate", "", "crypto" },
        { "crc32c_pcl_intel_update", Kernel, "crypto" },
        { "XXH3_hashLong_64b", "", "crypto" },
        { "md5_block_asm_data_order", "", "crypto" },
        { "crypto/sha256.block", "", "crypto" },
        { "shadow_lookup", "", null },
        { "aesthetic_render", "", null },
        { "crcount", "", null },

        // regular expressions
        { "pcre2_match_8", "", "regex" },
        { "re2::DFA::InlinedSearchLoop", "", "regex" },
        { "regexec", Libc, "regex" },
        { "std::__detail::_Executor<char const*>::_M_dfs", "", "regex" },
        { "System.Text.RegularExpressions.RegexInterpreter.Go()", "", "regex" },
        { "sre_ucs1_match", "", "regex" },
        { "regexp.(*Regexp).doExecute", "", "regex" },
        { "registry_lookup", "", null },
        { "prefetch_regions", "", null },

        // logging
        { "syslog", Libc, "logging" },
        { "__vsyslog_internal", Libc, "logging" },
        { "org.apache.logging.log4j.core.Logger.log", "", "logging" },
        { "spdlog::logger::sink_it_", "", "logging" },
        { "google::LogMessage::Flush()", "", "logging" },
        { "go.uber.org/zap.(*Logger).Info", "", "logging" },
        { "log.(*Logger).Output", "", "logging" },
        { "log", "/lib/x86_64-linux-gnu/libm.so.6", null },
        { "logf", "", null },
        { "log10", "", null },
        { "vfprintf", Libc, null },
        { "login_shell", "", null },

        // interpreter overhead
        { "_PyEval_EvalFrameDefault", "/usr/bin/python3.11", "interpreter" },
        { "PyEval_EvalCode", "", "interpreter" },
        { "vm_exec_core", "", "interpreter" },
        { "Perl_runops_standard", "", "interpreter" },
        { "PyList_Append", "", null },
        { "vm_area_alloc", Kernel, null },

        // perf annotations
        { "schedule_[k]", "", "syscalls" },
        { "memcpy_[k]", "", "memcpy" },
        { "java.util.regex.Pattern$Curly.match_[j]", "", "regex" },
        { "malloc_[x]", "", null },
        { "free@example.com", "", null },
        { "_[k]", "", null },

        // nothing
        { "main", "/usr/bin/api", null },
        { "", "", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Classify_GivesTheTablePattern(string function, string module, string? expected) =>
        Assert.Equal(expected, Patterns.Classify(function, module)?.Id);

    [Fact]
    public void Cases_CoverEveryNamedPatternWithPositivesAndNearMisses()
    {
        var positives = new HashSet<string>();
        var negatives = 0;
        foreach (var row in Cases)
        {
            var expected = (string?)row[2];
            if (expected is null)
            {
                negatives++;
            }
            else
            {
                positives.Add(expected);
            }
        }

        foreach (var p in Patterns.All)
        {
            if (p.Rules.Count > 0)
            {
                Assert.Contains(p.Id, positives);
            }
        }

        Assert.True(negatives >= 2 * positives.Count, $"{negatives} near misses for {positives.Count} patterns");
    }

    [Fact]
    public void Classify_FirstPatternInTableOrderWins()
    {
        // "_raw_spin_lock" is also *spin* (busy polling) — locks come first.
        Assert.Equal("locks", Patterns.Classify("_raw_spin_lock", Kernel)?.Id);

        // A function rule beats a module rule: memcpy inside libz is a copy, not compression.
        Assert.Equal("memcpy", Patterns.Classify("memcpy", "/lib/libz.so.1")?.Id);
    }

    [Fact]
    public void Classify_AgreesWithAScanOfTheTableInOrder()
    {
        var names = Gen.OneOf(
            Gen.String,
            Gen.String[Gen.Char["_abcdefgilmnoprstuxyzGLPSZ:.(*)/"], 0, 24],
            Gen.OneOf(Cases.Select(c => (string)c[0]).ToArray()).SelectMany(n => Gen.String[0, 4].Select(tail => n + tail)));
        var modules = Gen.OneOf(Gen.Const(""), Gen.OneOf("/lib/libz.so.1", "libcrypto.so.3", "/x/libpcre2-8.so.0", "/usr/bin/app", "_json.cpython-312.so"));
        Gen.Select(names, modules).Sample(t => Assert.Equal(Scan(t.Item1, t.Item2)?.Id, Patterns.Classify(t.Item1, t.Item2)?.Id));
    }

    private static Pattern? Scan(string function, string module)
    {
        function = Patterns.WithoutAnnotation(function);
        foreach (var p in Patterns.All)
        {
            if (p.Rules.Any(r => !r.OnModule && r.Matches(function)))
            {
                return p;
            }
        }

        var file = Patterns.FileName(module);
        foreach (var p in Patterns.All)
        {
            if (file.Length > 0 && p.Rules.Any(r => r.OnModule && r.Matches(file)))
            {
                return p;
            }
        }

        return null;
    }

    [Fact]
    public void Rules_AreCaseSensitiveUnlessMarked()
    {
        Assert.Null(Patterns.Classify("Pthread_Mutex_Lock", ""));
        Assert.False(new PatternRule(NameMatch.Contains, "spin").Matches("MySPINner"));
        Assert.True(new PatternRule(NameMatch.Contains, "spin", IgnoreCase: true).Matches("MySPINner"));
        Assert.True(new PatternRule(NameMatch.Prefix, "xx", IgnoreCase: true).Matches("XXy"));
        Assert.True(new PatternRule(NameMatch.Exact, "ab", IgnoreCase: true).Matches("AB"));
        Assert.False(new PatternRule(NameMatch.Exact, "ab").Matches("abc"));
    }

    [Fact]
    public void Patterns_HaveUniqueIdsAndOneLineAdvice()
    {
        var ids = new HashSet<string>();
        foreach (var p in Patterns.All)
        {
            Assert.True(ids.Add(p.Id), p.Id);
            Assert.False(string.IsNullOrWhiteSpace(p.Advice));
            Assert.DoesNotContain('\n', p.Advice);
            Assert.True(p.Advice.Length < 260, $"{p.Id}: advice is {p.Advice.Length} characters");
        }

        Assert.Contains("gpu-idle", ids);
        Assert.Contains("gpu-trap", ids);
    }

    [Fact]
    public void Docs_ShowTheTableAsTheCodeHasIt()
    {
        var docs = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "cost.md"));
        var table = Patterns.MarkdownTable();
        if (!docs.Contains(table, StringComparison.Ordinal))
        {
            var received = Path.Combine(TestPaths.RepoRoot, "docs", "cost-patterns.received.md");
            File.WriteAllText(received, table);
            Assert.Fail($"docs/cost.md does not contain the pattern table as Patterns.MarkdownTable() writes it; the table is in {received}: paste it into the Opportunities section.");
        }
    }
}
