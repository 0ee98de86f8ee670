using System.Text;

namespace Orac.Cost.Opportunities;

/// <summary>How a <see cref="PatternRule"/> compares its text with a name.</summary>
public enum NameMatch
{
    /// <summary>The whole name equals the text.</summary>
    Exact,

    /// <summary>The name starts with the text (so kernel clones such as <c>finish_task_switch.isra.0</c> match <c>finish_task_switch</c>).</summary>
    Prefix,

    /// <summary>The text occurs anywhere in the name.</summary>
    Contains,
}

/// <summary>
/// One rule of the pattern table. Rules compare ordinally and case-sensitively unless <see cref="IgnoreCase"/>;
/// function rules look at the frame's function name as stored, module rules at the file name of the frame's module
/// (the part after the last <c>/</c>, e.g. <c>libz.so.1</c>).
/// </summary>
public sealed record PatternRule(NameMatch Match, string Text, bool OnModule = false, bool IgnoreCase = false)
{
    /// <summary>Whether <paramref name="name"/> (a function name, or a module file name for module rules) satisfies the rule.</summary>
    public bool Matches(string name)
    {
        var cmp = IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return Match switch
        {
            NameMatch.Exact => string.Equals(name, Text, cmp),
            NameMatch.Prefix => name.StartsWith(Text, cmp),
            _ => name.Contains(Text, cmp),
        };
    }

    /// <summary>The rule as docs/cost.md writes it: <c>memcpy</c>, <c>__memcpy*</c>, <c>*spin*</c>, <c>lib:libz.so*</c>, <c>(i)</c> for ignore case.</summary>
    public override string ToString()
    {
        var text = Match switch
        {
            NameMatch.Exact => Text,
            NameMatch.Prefix => Text + "*",
            _ => "*" + Text + "*",
        };
        return (OnModule ? "lib:" : "") + text + (IgnoreCase ? " (i)" : "");
    }
}

/// <summary>A recognised pattern: an id, a display name, one line of advice, and the rules that recognise its frames.</summary>
public sealed class Pattern(string id, string name, string advice, IReadOnlyList<PatternRule> rules)
{
    /// <summary>Stable id, e.g. <c>memcpy</c>, <c>gc</c>, <c>locks</c>.</summary>
    public string Id { get; } = id;

    /// <summary>Display name, e.g. <c>memory copies</c>.</summary>
    public string Name { get; } = name;

    /// <summary>One line of advice for an engineer.</summary>
    public string Advice { get; } = advice;

    /// <summary>Rules, any of which recognises a frame; empty for patterns not recognised by name (GPU time).</summary>
    public IReadOnlyList<PatternRule> Rules { get; } = rules;
}

/// <summary>
/// The fixed pattern table (docs/cost.md "Opportunities"). A frame belongs to at most one pattern: the first pattern
/// in table order with a function rule matching its function name, else the first with a module rule matching its
/// module's file name. Matching is by name only — the classifier never sees the stack — so a rule must be specific
/// enough that a name alone tells the pattern (e.g. <c>vfprintf</c> is not logging: every printf goes through it).
/// </summary>
public static class Patterns
{
    /// <summary>Frames copying memory.</summary>
    public static Pattern MemoryCopies { get; } = new(
        "memcpy",
        "memory copies",
        "Copy less: pass buffers by reference (spans, slices), reuse buffers instead of copying into new ones, avoid user/kernel copies (sendfile, splice, larger I/O), and check that one payload is not copied at every layer.",
        [
            X("memcpy"), P("__memcpy"), X("memmove"), P("__memmove"), X("mempcpy"), P("__mempcpy"), X("wmemcpy"), X("bcopy"),
            X("_platform_memmove"), P("copy_user_"), P("rep_movs"), P("_copy_to_user"), P("_copy_from_user"), X("copy_page"),
            P("copyin"), P("copyout"), P("runtime.memmove"), P("System.Buffer.Memmove"), P("System.SpanHelpers.Memmove"),
            P("core::intrinsics::copy"), P("__memcpy_chk"),
        ]);

    /// <summary>Frames servicing page faults or unmapping memory.</summary>
    public static Pattern PageFaults { get; } = new(
        "page-faults",
        "page faults and unmapping",
        "Fault less: keep and reuse memory instead of mapping and unmapping it (allocator retain/decay settings), pre-fault or use huge pages for large heaps, and avoid short-lived large allocations.",
        [
            P("asm_exc_page_fault"), P("exc_page_fault"), P("do_user_addr_fault"), P("page_fault"), P("handle_mm_fault"),
            P("__handle_mm_fault"), P("handle_pte_fault"), P("do_anonymous_page"), P("do_huge_pmd_anonymous_page"), P("do_fault"),
            P("__do_fault"), P("do_wp_page"), P("do_read_fault"), P("do_cow_fault"), P("filemap_fault"), P("clear_page_erms"),
            P("clear_page_rep"), P("clear_page_orig"), P("clear_huge_page"), P("clear_subpage"),

            // Unmapping and the TLB shootdowns it brings.
            P("__x64_sys_munmap"), P("__vm_munmap"), P("do_vmi_munmap"), P("do_vmi_align_munmap"), P("unmap_page_range"),
            P("unmap_vmas"), P("flush_tlb_mm_range"), P("tlb_flush_mmu"), P("tlb_finish_mmu"), X("munmap"), X("__munmap"),
        ]);

    /// <summary>Frames allocating or freeing memory, or collecting garbage.</summary>
    public static Pattern Allocation { get; } = new(
        "gc",
        "allocation and garbage collection",
        "Allocate less on hot paths: reuse objects and buffers (pools, arenas), presize collections, avoid temporary strings and boxing; then tune the allocator (jemalloc, tcmalloc, mimalloc) or the GC (heap size, GOGC, server GC).",
        [
            // C and C++ allocators. tc_ is limited to tcmalloc's entry points: the kernel's traffic control has tc_* functions too.
            X("malloc"), X("free"), X("calloc"), X("realloc"), X("cfree"), X("posix_memalign"), X("aligned_alloc"), X("memalign"),
            X("valloc"), P("_int_malloc"), P("_int_free"), P("_int_realloc"), P("_int_memalign"), P("__libc_malloc"),
            P("__libc_free"), P("__libc_calloc"), P("__libc_realloc"), P("malloc_consolidate"), P("sysmalloc"), P("tcache_"),
            P("unlink_chunk"), P("je_"), P("tc_malloc"), P("tc_free"), P("tc_calloc"), P("tc_realloc"), P("tc_memalign"),
            P("tc_posix_memalign"), P("tc_new"), P("tc_delete"), P("tcmalloc::"), P("mi_malloc"), P("mi_free"), P("_mi_"),
            P("operator new"), P("operator delete"), P("_Znw"), P("_Zna"), P("_Zdl"), P("_Zda"),
            P("__rust_alloc"), P("__rust_dealloc"), P("__rust_realloc"), P("alloc::alloc::"), P("alloc::raw_vec::"),
            P("CRYPTO_malloc"), P("CRYPTO_free"), P("CRYPTO_zalloc"),

            // Kernel allocators.
            P("kmalloc"), P("__kmalloc"), P("kmem_cache_alloc"), P("kmem_cache_free"), X("kfree"), P("__slab_free"),
            P("___slab_alloc"), P("__alloc_pages"), P("alloc_pages"), P("__alloc_frozen_pages"), P("get_page_from_freelist"), P("__free_pages"), P("free_unref_page"),
            P("rmqueue"),

            // Go.
            P("runtime.mallocgc"), P("runtime.gc"), P("runtime.(*mheap)"), P("runtime.(*mspan)"), P("runtime.(*mcache)"),
            P("runtime.(*mcentral)"), P("runtime.(*gcWork)"), P("runtime.(*gcControllerState)"), P("runtime.scanobject"),
            P("runtime.scanblock"), P("runtime.scanstack"), P("runtime.greyobject"), P("runtime.markroot"),
            P("runtime.sweepone"), P("runtime.bgsweep"), P("runtime.bgscavenge"), P("runtime.newobject"),
            P("runtime.makeslice"), P("runtime.growslice"), P("runtime.makemap"), P("runtime.memclrNoHeapPointers"),
            P("runtime.heapBits"), P("runtime.wbBuf"), P("runtime.findObject"), P("runtime.nextFreeFast"),

            // JVM (HotSpot collectors and allocation slow paths).
            P("G1"), P("PSPromotionManager"), P("PSScavenge"), P("PSParallelCompact"), P("PSOldGen"), P("PSYoungGen"),
            P("Shenandoah"), P("ZMark"), P("ZHeap"), P("ZRelocate"), P("ZBarrier"), P("MarkSweep::"), P("CollectedHeap::"),
            P("DefNewGeneration::"), P("TenuredGeneration::"), P("MemAllocator::"), P("OptoRuntime::new_"),
            P("InstanceKlass::allocate"), P("TypeArrayKlass::allocate"), P("ObjArrayKlass::allocate"),

            // CLR (WKS/SVR are the workstation and server GC namespaces), V8, CPython, Ruby.
            P("WKS::"), P("SVR::"), P("gc_heap::"), P("GCHeap::"), C("GarbageCollect"), P("JIT_New"), P("AllocateObject"),
            P("v8::internal::Heap::"), P("v8::internal::HeapAllocator::"), P("v8::internal::Scaveng"), P("v8::internal::MarkCompact"), P("v8::internal::MinorMarkCompact"),
            P("v8::internal::ConcurrentMarking"), P("v8::internal::Sweeper"), P("_PyObject_Malloc"), P("PyObject_Malloc"),
            P("_PyObject_Free"), P("PyObject_Free"), P("pymalloc_"), P("_PyObject_GC_"), P("PyObject_GC_"), P("_PyMem_"),
            P("PyMem_"), P("gc_"), P("rb_gc"), P("newobj_"),

            M("libjemalloc.so"), M("libtcmalloc"), M("libmimalloc.so"),
        ]);

    /// <summary>Frames taking, waiting for or spinning on locks.</summary>
    public static Pattern Locks { get; } = new(
        "locks",
        "locks and spinning",
        "Reduce contention: shorten critical sections, shard the lock or the data it guards, use per-thread or per-CPU state or lock-free structures, and never hold a lock across I/O.",
        [
            P("pthread_mutex_"), P("__pthread_mutex_"), P("pthread_spin_"), P("pthread_rwlock_"), P("__pthread_rwlock_"),
            P("__lll_lock"), P("__lll_unlock"), P("lll_lock"), P("futex_"), P("__futex"), P("do_futex"), P("__x64_sys_futex"),
            P("native_queued_spin_lock_slowpath"), P("queued_spin_lock_slowpath"), P("__pv_queued_spin_lock_slowpath"),
            P("_raw_spin_"), P("_raw_read_"), P("_raw_write_"), P("osq_lock"),
            P("mutex_spin_on_owner"), P("rwsem_down_"), P("rwsem_spin_on_owner"), P("__mutex_lock"), P("mutex_lock"),
            P("runtime.lock"), P("runtime.unlock"), P("runtime.futex"), P("sync.(*Mutex)"), P("sync.(*RWMutex)"),
            P("runtime.semacquire"), P("runtime.semrelease"), P("sync.runtime_Semacquire"), P("sync.runtime_SemacquireMutex"),
            P("java.util.concurrent.locks."), P("ObjectMonitor::"), P("ObjectSynchronizer::"),
            P("System.Threading.Monitor."), P("System.Threading.Lock."), P("AwareLock::"), P("parking_lot::"),
            P("std::sys::sync::mutex"), P("absl::Mutex::"), P("absl::base_internal::SpinLock"),
            C("spin_lock"), C("SpinLock"), C("spinlock"),
        ]);

    /// <summary>Threads that poll or spin while waiting.</summary>
    public static Pattern BusyPolling { get; } = new(
        "busy-poll",
        "busy polling",
        "Threads spin or yield while waiting: block on an event (futex, condition variable, epoll with a timeout) instead of polling, or cap the spin count — unless the latency is bought on purpose.",
        [
            X("sched_yield"), P("__sched_yield"), P("do_sched_yield"), P("__x64_sys_sched_yield"), X("_mm_pause"),
            C("busy_poll"), C("busy_loop"), P("runtime.procyield"), P("runtime.osyield"), P("runtime.usleep"),
            P("java.lang.Thread.onSpinWait"), P("java.lang.Thread.yield"), P("SpinPause"), P("cpu_relax"), C("SpinWait"),
            C("SpinOnce"), C("SpinUntil"), C("spin_loop"), C("spin_wait"),
        ]);

    /// <summary>Entering and leaving the kernel and switching tasks.</summary>
    public static Pattern Syscalls { get; } = new(
        "syscalls",
        "syscalls and context switches",
        "Make fewer, larger system calls and switch less: batch reads and writes (buffering, writev, recvmmsg, io_uring), keep per-item syscalls out of loops, and run no more busy threads than there are CPUs.",
        [
            P("entry_SYSCALL_64"), P("entry_SYSRETQ"), P("do_syscall_64"), P("syscall_exit_to_user_mode"),
            P("syscall_enter_from_user_mode"), P("exit_to_user_mode_prepare"), P("exit_to_user_mode_loop"),
            P("syscall_return_via_sysret"), P("__schedule"), X("schedule"), P("finish_task_switch"), P("__switch_to"),
            P("context_switch"), P("switch_mm_irqs_off"), P("switch_fpu_return"), P("pick_next_task"), P("dequeue_task"),
            P("enqueue_task"), P("try_to_wake_up"), P("ttwu_"), P("select_task_rq"), X("syscall"),
            P("syscall.Syscall"), P("syscall.RawSyscall"), P("syscall.syscall"), P("internal/runtime/syscall."),
            P("runtime/internal/syscall."), P("runtime.entersyscall"), P("runtime.exitsyscall"), P("runtime.reentersyscall"),
            P("runtime.schedule"), P("runtime.findRunnable"), P("runtime.findrunnable"), P("runtime.park_m"), P("runtime.mcall"),
        ]);

    /// <summary>Compressing and decompressing.</summary>
    public static Pattern Compression { get; } = new(
        "compression",
        "compression",
        "Compress less or more cheaply: pick a faster codec or level (zstd -1, LZ4), skip small or already-compressed payloads, and cache compressed results instead of compressing them per request.",
        [
            P("deflate"), P("inflate"), X("compress"), X("compress2"), X("uncompress"), X("longest_match"), X("fill_window"),
            P("_tr_"), X("slide_hash"), X("compress_block"), P("adler32"), P("zng_"), P("libdeflate_"), P("isal_"),
            P("ZSTD_"), P("HUF_"), P("FSE_"), P("LZ4_"), P("LZ4F_"), P("LZ4HC_"), P("snappy::"), P("Brotli"), P("BZ2_"),
            P("lzma_"), P("compress/"), P("github.com/klauspost/compress/"), P("github.com/golang/snappy."),
            P("github.com/pierrec/lz4"), P("java.util.zip."), P("System.IO.Compression."),
            M("libz.so"), M("libz-ng.so"), M("libzstd.so"), M("liblz4.so"), M("libsnappy.so"), M("libbz2.so"), M("liblzma.so"),
            M("libbrotli"), M("libdeflate.so"), M("libisal.so"),
            M("gzip"), M("pigz"), M("xz"), M("zstd"), M("bzip2"), M("lz4"),
        ]);

    /// <summary>Parsing and writing JSON.</summary>
    public static Pattern Json { get; } = new(
        "json",
        "JSON serialization",
        "Parse and write JSON less: cache serialized responses, do not reparse the same document at each layer, use a faster codec (simdjson, source-generated or code-generated serializers), or a binary format between services.",
        [
            P("simdjson::"), P("rapidjson::"), P("nlohmann::"), P("json_"), P("yyjson_"), P("cJSON_"), P("encoding/json."),
            P("github.com/json-iterator/"), P("github.com/goccy/go-json"), P("github.com/bytedance/sonic"),
            P("System.Text.Json."), P("Newtonsoft.Json."), P("com.fasterxml.jackson."), P("com.google.gson."),
            P("serde_json::"), P("simd_json::"), P("v8::internal::Json"), P("v8::internal::Builtin_Json"), P("Builtins_Json"),
            M("libsimdjson.so"), M("libjson-c.so"), M("libjansson.so"), M("libyyjson.so"), M("libcjson.so"), M("_json."),
            M("orjson."),
        ]);

    /// <summary>Encoding and decoding protocol buffers.</summary>
    public static Pattern Protobuf { get; } = new(
        "protobuf",
        "protobuf serialization",
        "Serialize protobufs less: marshal each message once instead of at every layer, reuse messages and arenas, make large rarely-read submessages lazy, and avoid copying messages by value.",
        [
            P("google::protobuf::"), P("google.golang.org/protobuf/"), P("github.com/golang/protobuf/"),
            P("github.com/gogo/protobuf/"), P("proto.Marshal"), P("proto.Unmarshal"), P("proto.Size"), P("com.google.protobuf."),
            P("Google.Protobuf."), P("prost::"), P("upb_"), P("_upb_"),
            M("libprotobuf.so"), M("libprotobuf-lite.so"), M("libupb"),
        ]);

    /// <summary>Encryption, signatures, hashes and checksums.</summary>
    public static Pattern Crypto { get; } = new(
        "crypto",
        "crypto and hashing",
        "Hash and encrypt less or faster: check hardware acceleration is used (AES-NI, SHA extensions, a current crypto library), resume TLS sessions and keep connections alive, and use a fast non-cryptographic hash (xxHash) where security is not needed.",
        [
            P("sha1"), P("sha224"), P("sha256"), P("sha384"), P("sha512"), P("sha3"), P("SHA1"), P("SHA224"), P("SHA256"),
            P("SHA384"), P("SHA512"), P("SHA3"), P("aes_"), P("aesni_"), P("_aesni_"), P("AES_"), P("vpaes_"), P("bsaes_"),
            P("gcm_"), P("ghash_"), P("CRYPTO_gcm128_"), P("CRYPTO_ctr128_"), P("CRYPTO_cbc128_"), P("chacha20_"),
            P("ChaCha20_"), P("poly1305_"), P("Poly1305_"), P("EVP_"), P("evp_"), P("ossl_"), P("RSA_"), P("BN_"), P("bn_mul"),
            P("bn_sqr"), P("bn_power"), P("__bn_"), P("ecp_nistz256_"), P("x25519_"), P("X25519"), P("ED25519"), P("ed25519_"),
            P("crc32"), P("crc64"), P("crc_"), P("xxh"), P("XXH"), P("md5"), P("MD5"), P("blake2"), P("BLAKE2"), P("blake3_"),
            P("MurmurHash"), P("siphash"), P("crypto_"), P("crypto/"), P("hash/crc32."), P("hash/crc64."),
            P("github.com/cespare/xxhash"), P("golang.org/x/crypto/"), P("sun.security."), P("javax.crypto."),
            P("com.sun.crypto.provider."), P("System.Security.Cryptography."), P("ring::"), P("sha2::"), P("aes_gcm::"),
            P("rustls::"),
            M("libcrypto.so"), M("libgcrypt.so"), M("libsodium.so"), M("libnettle.so"), M("libxxhash.so"), M("libb2.so"),
            M("sha1sum"), M("sha224sum"), M("sha256sum"), M("sha384sum"), M("sha512sum"), M("md5sum"), M("b2sum"),
        ]);

    /// <summary>Compiling and running regular expressions.</summary>
    public static Pattern Regex { get; } = new(
        "regex",
        "regular expressions",
        "Compile regular expressions once and reuse them, use plain string search for literals, anchor patterns, and use a linear-time engine (RE2, Rust regex, .NET NonBacktracking) for backtracking-heavy ones.",
        [
            P("pcre"), P("re2::"), P("regexec"), P("regcomp"), P("re_search"), P("re_compile"), P("build_trtable"),
            P("std::__detail::_Executor"), P("std::__detail::_Compiler"), P("std::__detail::_Scanner"),
            P("std::__cxx11::basic_regex"), P("std::basic_regex"), P("std::regex_"), P("boost::re_detail"),
            P("System.Text.RegularExpressions."), P("sre_"), P("_sre"), P("SRE_"), P("regexp."), P("regexp/syntax."),
            P("java.util.regex."), P("regex::"), P("regex_automata::"), P("regex_syntax::"), P("onig_"),
            P("v8::internal::RegExp"), P("hs_scan"),
            M("libpcre"), M("libre2.so"), M("libonig.so"), M("libhs.so"),
        ]);

    /// <summary>Writing log lines.</summary>
    public static Pattern Logging { get; } = new(
        "logging",
        "logging",
        "Log less on hot paths: check the level before formatting, sample repetitive lines, write asynchronously and structured, and never format arguments of lines that are dropped.",
        [
            // Only names that are logging by themselves: vfprintf and friends serve every printf, and a bare `log` is
            // the maths function, so neither is here.
            P("syslog"), P("vsyslog"), P("__syslog"), P("__vsyslog"), P("org.apache.log4j."), P("org.apache.logging.log4j."),
            P("ch.qos.logback."), P("org.slf4j."), P("java.util.logging."), P("spdlog::"), P("google::LogMessage"),
            P("google::LogDestination"), P("google::RawLog"), P("absl::log_internal::"), P("log4cxx::"), P("go.uber.org/zap"),
            P("log.(*Logger)."), P("log.Print"), P("log/slog."), P("github.com/sirupsen/logrus."), P("github.com/rs/zerolog"),
            P("github.com/golang/glog."), P("k8s.io/klog"), P("Microsoft.Extensions.Logging."), P("Serilog."), P("NLog."),
            P("log4net."), P("log::"), P("tracing_subscriber::"), P("env_logger::"), C("logging/__init__.py"),
            M("libglog.so"), M("libspdlog.so"), M("liblog4cxx.so"),
        ]);

    /// <summary>Interpreters' dispatch loops.</summary>
    public static Pattern Interpreter { get; } = new(
        "interpreter",
        "interpreter overhead",
        "Time goes to the interpreter loop itself: move the hot loop into native or vectorised code (NumPy, a C or Rust extension), upgrade to a faster runtime version, or run it under a JIT.",
        [
            P("_PyEval_"), P("PyEval_"), C("ceval"), P("_Py_Specialize_"), P("vm_exec"), P("rb_vm_exec"), P("vm_call_"),
            P("Perl_runops"), P("Perl_pp_"), X("execute_ex"), P("ZEND_"), P("zend_execute"), P("luaV_execute"),
            P("Builtins_Interpreter"), X("Interpreter"), P("BytecodeInterpreter::"),
        ]);

    /// <summary>GPU time billed or powered while the GPU is mostly idle (from the cost answer's GPU rows, not from frames).</summary>
    public static Pattern GpuIdle { get; } = new(
        "gpu-idle",
        "GPU idle time",
        "GPUs are billed or powered while mostly idle: consolidate work onto fewer GPUs, scale the pool down when the queue is empty, or share GPUs (MIG, MPS, time-slicing).",
        []);

    /// <summary>GPU time with high utilization but low SM activity (from the cost answer's GPU rows, not from frames).</summary>
    public static Pattern GpuTrap { get; } = new(
        "gpu-trap",
        "GPU utilization trap",
        "Utilization looks high but few SMs are busy: kernels are too small or serialised — batch more work per kernel, overlap copies with compute, and check with Nsight Systems.",
        []);

    /// <summary>Every pattern in table order: the first that matches a frame wins.</summary>
    public static IReadOnlyList<Pattern> All { get; } =
    [
        MemoryCopies, PageFaults, Allocation, Locks, BusyPolling, Syscalls, Compression, Json, Protobuf, Crypto, Regex,
        Logging, Interpreter, GpuIdle, GpuTrap,
    ];

    private static readonly RuleIndex s_functionRules = new(All, onModule: false);
    private static readonly RuleIndex s_moduleRules = new(All, onModule: true);

    /// <summary>The pattern of a frame: the first function rule (table order) matching <paramref name="function"/>, else the first module rule matching the file name of <paramref name="module"/>; null when none.</summary>
    public static Pattern? Classify(string function, string? module) =>
        ClassifyFunction(function) ?? (string.IsNullOrEmpty(module) ? null : ClassifyModule(module));

    /// <summary>The pattern of a function name by the function rules alone (after <see cref="WithoutAnnotation"/>); null when none.</summary>
    public static Pattern? ClassifyFunction(string function) => s_functionRules.First(WithoutAnnotation(function));

    /// <summary>
    /// The name without the annotation stackcollapse-perf.pl (and Orac's perf collapser) appends — <c>_[k]</c> kernel,
    /// <c>_[j]</c> JIT, <c>_[i]</c> inlined, <c>_[w]</c> waker — and without a symbol version or PLT suffix
    /// (<c>@@GLIBC_2.2.5</c>, <c>@GLIBC_2.34</c>, <c>@plt</c>): <c>schedule_[k]</c> is <c>schedule</c>,
    /// <c>malloc@plt</c> is <c>malloc</c>.
    /// </summary>
    public static string WithoutAnnotation(string function)
    {
        var name = function;
        if (name.Length > 4 && name[^4] == '_' && name[^3] == '[' && name[^1] == ']' && name[^2] is 'k' or 'j' or 'i' or 'w')
        {
            name = name[..^4];
        }

        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at > 0)
        {
            var version = name.AsSpan(at + 1).TrimStart('@');
            if (version.SequenceEqual("plt") || (version.Length > 0 && char.IsAsciiLetterUpper(version[0]) && !version.ContainsAnyExcept(s_versionChars)))
            {
                name = name[..at];
            }
        }

        return name;
    }

    private static readonly System.Buffers.SearchValues<char> s_versionChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");

    /// <summary>The pattern of a module (a path or file name) by the module rules alone; null when none.</summary>
    public static Pattern? ClassifyModule(string module)
    {
        var file = FileName(module);
        return file.Length == 0 ? null : s_moduleRules.First(file);
    }

    /// <summary>The part of a path after the last <c>/</c> or <c>\</c>.</summary>
    public static string FileName(string path)
    {
        var i = path.AsSpan().LastIndexOfAny('/', '\\');
        return i < 0 ? path : path[(i + 1)..];
    }

    /// <summary>The pattern table as docs/cost.md shows it (a test keeps the two equal).</summary>
    public static string MarkdownTable()
    {
        var sb = new StringBuilder();
        sb.Append("| id | pattern | advice | frames (`x*` prefix, `*x*` contains, `lib:` module file name, `(i)` ignore case) |\n");
        sb.Append("|---|---|---|---|\n");
        foreach (var p in All)
        {
            sb.Append("| `").Append(p.Id).Append("` | ").Append(p.Name).Append(" | ").Append(p.Advice).Append(" | ");
            if (p.Rules.Count == 0)
            {
                sb.Append("from the cost answer's GPU rows");
            }
            else
            {
                for (var i = 0; i < p.Rules.Count; i++)
                {
                    sb.Append(i == 0 ? "`" : ", `").Append(p.Rules[i].ToString().Replace("|", "\\|", StringComparison.Ordinal)).Append('`');
                }
            }

            sb.Append(" |\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The rules of one side (function or module) indexed so a name is checked against few of them: exact rules in a
    /// dictionary, case-sensitive prefixes of two or more characters bucketed by their first two, the rest in a list.
    /// Every candidate carries its pattern's table position, and the smallest position that matches wins, exactly as
    /// a scan of the table in order would decide.
    /// </summary>
    private sealed class RuleIndex
    {
        private readonly IReadOnlyList<Pattern> _patterns;
        private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
        private readonly Dictionary<int, List<(string Text, int Pattern)>> _prefixes = [];
        private readonly List<(PatternRule Rule, int Pattern)> _others = [];

        public RuleIndex(IReadOnlyList<Pattern> patterns, bool onModule)
        {
            _patterns = patterns;
            for (var p = 0; p < patterns.Count; p++)
            {
                foreach (var r in patterns[p].Rules)
                {
                    if (r.OnModule != onModule)
                    {
                        continue;
                    }

                    if (r.Match == NameMatch.Exact && !r.IgnoreCase)
                    {
                        _exact.TryAdd(r.Text, p);
                    }
                    else if (r.Match == NameMatch.Prefix && !r.IgnoreCase && r.Text.Length >= 2)
                    {
                        var key = Key(r.Text);
                        if (!_prefixes.TryGetValue(key, out var list))
                        {
                            list = [];
                            _prefixes.Add(key, list);
                        }

                        list.Add((r.Text, p));
                    }
                    else
                    {
                        _others.Add((r, p));
                    }
                }
            }
        }

        public Pattern? First(string name)
        {
            var best = int.MaxValue;
            if (_exact.TryGetValue(name, out var e))
            {
                best = e;
            }

            // Lists are in table order: the first match in each is its best.
            if (name.Length >= 2 && _prefixes.TryGetValue(Key(name), out var list))
            {
                foreach (var (text, p) in list)
                {
                    if (p >= best)
                    {
                        break;
                    }

                    if (name.StartsWith(text, StringComparison.Ordinal))
                    {
                        best = p;
                        break;
                    }
                }
            }

            foreach (var (rule, p) in _others)
            {
                if (p >= best)
                {
                    break;
                }

                if (rule.Matches(name))
                {
                    best = p;
                    break;
                }
            }

            return best == int.MaxValue ? null : _patterns[best];
        }

        private static int Key(string s) => (s[0] << 16) | s[1];
    }

    private static PatternRule X(string text) => new(NameMatch.Exact, text);

    private static PatternRule P(string text) => new(NameMatch.Prefix, text);

    private static PatternRule C(string text, bool ignoreCase = false) => new(NameMatch.Contains, text, IgnoreCase: ignoreCase);

    private static PatternRule M(string text) => new(NameMatch.Prefix, text, OnModule: true);
}
