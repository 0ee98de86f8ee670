/* A workload with known hot functions for the orac record tests.
 * Build: gcc -O1 -fno-omit-frame-pointer -o hot hot.c
 * Usage: hot SECONDS   (spins for about that long; ~80% of the time in hot_spin, ~20% in warm_spin)
 */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

__attribute__((noinline)) void hot_spin(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        sink += i * 7;
}

__attribute__((noinline)) void warm_spin(unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        sink ^= i;
}

__attribute__((noinline)) void work(void)
{
    hot_spin(4000000);
    warm_spin(1000000);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    double end = now() + seconds;
    while (now() < end)
        work();
    return 0;
}
