#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>

#include "CEpoll.h"

int c_epoll_name_thread(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int c_epoll_trim_heap(void) {
    return malloc_trim(0);
}
