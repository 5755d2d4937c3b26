#define _GNU_SOURCE
#include <pthread.h>

#include "CEpoll.h"

int c_epoll_name_thread(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
