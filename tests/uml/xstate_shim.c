/*
 * LD_PRELOAD shim for Debian's User-mode Linux 6.1 on hosts with a large XSAVE area.
 *
 * UML 6.1 saves and restores its processes' FPU state with PTRACE_GETREGSET /
 * PTRACE_SETREGSET (NT_X86_XSTATE) using a fixed 832-byte buffer (x87, SSE, AVX).
 * The host kernel accepts SETREGSET only with its full XSAVE size, which is larger
 * on CPUs with AVX-512 or AMX (11008 bytes on the development machines), so UML's
 * first context switch fails with "ptrace set fp regs failed, errno = 14" and init
 * dies. Newer UML kernels size the buffer from the host; Debian 12 has only 6.1.
 *
 * The shim keeps a full-size shadow of every buffer UML uses (one per UML thread),
 * fills it on GETREGSET and hands UML the first part, and on SETREGSET writes UML's
 * part back over the shadow and sets the whole. A thread's AVX-512/AMX state thus
 * survives its own context switches exactly. With a host XSAVE area that fits UML's
 * buffer, every call passes straight through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SLOTS 16384

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static struct { void *key; unsigned char *full; } shadows[SLOTS];
static size_t full_size;

static unsigned char *shadow_for(void *key)
{
    size_t i = ((uintptr_t)key >> 4) % SLOTS;
    for (size_t n = 0; n < SLOTS; n++, i = (i + 1) % SLOTS) {
        if (shadows[i].key == key)
            return shadows[i].full;
        if (shadows[i].key == NULL) {
            shadows[i].full = calloc(1, full_size);
            if (shadows[i].full)
                shadows[i].key = key;
            return shadows[i].full;
        }
    }
    return NULL;
}

long ptrace(enum __ptrace_request request, ...)
{
    static ptrace_fn real;
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);

    if (!real)
        real = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
    if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) ||
        (uintptr_t)addr != NT_X86_XSTATE)
        return real(request, pid, addr, data);

    struct iovec *iov = data;
    if (!full_size) {
        static unsigned char probe[1 << 16];
        struct iovec whole = { probe, sizeof probe };
        long r = real(PTRACE_GETREGSET, pid, addr, &whole);
        if (r < 0)
            return r;
        full_size = whole.iov_len;
    }
    if (iov->iov_len >= full_size)
        return real(request, pid, addr, data);

    unsigned char *full = shadow_for(iov->iov_base);
    if (!full) {
        errno = ENOMEM;
        return -1;
    }
    struct iovec whole = { full, full_size };
    if (request == PTRACE_GETREGSET) {
        long r = real(PTRACE_GETREGSET, pid, addr, &whole);
        if (r == 0)
            memcpy(iov->iov_base, full, iov->iov_len);
        return r;
    }
    memcpy(full, iov->iov_base, iov->iov_len);
    return real(PTRACE_SETREGSET, pid, addr, &whole);
}
