// brume's native addon: the functions each part exports, and helpers they share.
#ifndef BRUME_H
#define BRUME_H

#include <node_api.h>
#include <pthread.h>

// sendfile.c: deploy files from the page cache to a connection.
napi_value sendfile_start(napi_env env, napi_callback_info info);
napi_value sendfile_cancel(napi_env env, napi_callback_info info);

// tftp-transfer.c: one TFTP read transfer on a thread and a socket of its own.
napi_value tftp_start(napi_env env, napi_callback_info info);
napi_value tftp_cancel(napi_env env, napi_callback_info info);

static inline napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

// Drops one of the references counted in `*refs` under `lock`; the number left (0: free the owner).
int drop_reference(pthread_mutex_t *lock, int *refs);

// Starts `run(arg)` on a detached thread with a stack of `stack` bytes; 0 or the error number.
int start_detached(void *(*run)(void *), void *arg, size_t stack);

// The first argument as the external a start function handed out, with `argc` arguments in `argv`; NULL (and a
// thrown error naming `usage`) if the call does not fit.
void *external_argument(napi_env env, napi_callback_info info, size_t argc, napi_value *argv, const char *usage);

#endif
