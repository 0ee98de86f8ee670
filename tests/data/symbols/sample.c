/* Test program for the symbolizer tests: a few functions of known names, built as PIE and -no-pie.
   Run with a number of seconds to stay alive; it prints "ready" once its functions have run. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long sink;

__attribute__((noinline)) static unsigned long local_helper(unsigned long x)
{
    unsigned long r = x;
    for (int i = 0; i < 7; i++)
        r = r * 31 + (unsigned long)i;
    return r;
}

__attribute__((noinline)) unsigned long hot_loop(unsigned long n)
{
    unsigned long acc = 0;
    for (unsigned long i = 0; i < n; i++)
        acc += (i * i) ^ (acc >> 3);
    return acc;
}

__attribute__((noinline)) unsigned long cold_path(unsigned long n)
{
    if (n > 100)
        return local_helper(n) + hot_loop(n / 2);
    return n + 1;
}

/* A local function with a global alias at the same address: the symbolizer must prefer the global name. */
__attribute__((noinline, used)) static unsigned long aliased_local(unsigned long x)
{
    return x * 3 + 1;
}
unsigned long public_alias(unsigned long x) __attribute__((alias("aliased_local")));

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 0;
    sink = hot_loop(1000) + cold_path(3) + local_helper(2) + public_alias(5) + (unsigned long)getpid();
    printf("ready\n");
    fflush(stdout);
    if (seconds > 0)
        sleep((unsigned)seconds);
    return 0;
}
