/* A process whose only busy thread was started before orac record attaches (record -p must open every
 * existing thread, not only the main one, which sleeps here).
 * Build: gcc -O1 -fno-omit-frame-pointer -pthread -o threaded threaded.c
 * Usage: threaded SECONDS
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long sink;

__attribute__((noinline)) void spin_in_worker_thread(void)
{
    for (;;)
        sink++;
}

static void *worker(void *arg)
{
    (void)arg;
    spin_in_worker_thread();
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_create(&t, 0, worker, 0);
    sleep(argc > 1 ? (unsigned)atoi(argv[1]) : 5);
    return 0;
}
