// sendfile(2) from an open file to a connected socket, on a thread of its own.
//
// Node has no sendfile to a socket: sending a deploy file from JavaScript
// copies every byte out of the page cache into a buffer and back into the
// kernel, on the one event loop. Here the kernel moves the pages itself, as
// nginx does, and each transfer runs on its own thread, so ten deploys use
// every core while the event loop stays free.
//
// The thread works on duplicates of both descriptors: Node may close its
// socket (the client went away) while a transfer runs, and the number could
// then name another file. The socket stays non-blocking (the flag belongs to
// the connection, shared with Node), so the thread waits for room with
// poll(). cancel() shuts the connection down, which wakes that poll.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "brume.h"

// Bytes per sendfile call: large enough to keep the socket full, small enough to look at `cancelled` often.
#define SLICE (8 << 20)

typedef struct {
  pthread_mutex_t lock;
  int socket_fd;  // our duplicate; -1 once closed
  int file_fd;    // our duplicate; -1 once closed
  int64_t offset;
  int64_t remaining;
  int64_t sent;
  int error;      // errno of the failure, 0 if none
  int cancelled;
  int refs;       // the JS handle, and the completion still to be delivered
  napi_threadsafe_function done;
} transfer_t;

static void release(transfer_t *t) {
  if (drop_reference(&t->lock, &t->refs) == 0) {
    pthread_mutex_destroy(&t->lock);
    free(t);
  }
}

static void *run(void *arg) {
  transfer_t *t = arg;
  off_t offset = (off_t)t->offset;
  while (t->remaining > 0) {
    pthread_mutex_lock(&t->lock);
    int cancelled = t->cancelled;
    pthread_mutex_unlock(&t->lock);
    if (cancelled) {
      t->error = ECANCELED;
      break;
    }
    size_t want = t->remaining < SLICE ? (size_t)t->remaining : SLICE;
    ssize_t n = sendfile(t->socket_fd, t->file_fd, &offset, want);
    if (n > 0) {
      t->remaining -= n;
      t->sent += n;
      continue;
    }
    if (n == 0) {
      // The file ended before the range did (truncated since it was opened).
      t->error = ENODATA;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      struct pollfd p = { .fd = t->socket_fd, .events = POLLOUT };
      if (poll(&p, 1, -1) < 0 && errno != EINTR) {
        t->error = errno;
        break;
      }
      continue;
    }
    t->error = errno;
    break;
  }
  pthread_mutex_lock(&t->lock);
  close(t->socket_fd);
  close(t->file_fd);
  t->socket_fd = t->file_fd = -1;
  pthread_mutex_unlock(&t->lock);
  napi_call_threadsafe_function(t->done, t, napi_tsfn_blocking);
  napi_release_threadsafe_function(t->done, napi_tsfn_release);
  return NULL;
}

// On the event loop: done(errno, bytesSent).
static void deliver(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  transfer_t *t = data;
  if (env != NULL && callback != NULL) {
    napi_value argv[2], global;
    napi_create_int32(env, t->error, &argv[0]);
    napi_create_double(env, (double)t->sent, &argv[1]);
    napi_get_global(env, &global);
    napi_call_function(env, global, callback, 2, argv, NULL);
  }
  release(t);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release(data);
}


static void free_unstarted(transfer_t *t) {
  if (t->socket_fd >= 0) close(t->socket_fd);
  if (t->file_fd >= 0) close(t->file_fd);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

// start(socketFd, fileFd, offset, length, done) -> handle
napi_value sendfile_start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return throw_error(env, "start(socketFd, fileFd, offset, length, done)");
  int32_t socket_fd, file_fd;
  int64_t offset, length;
  if (napi_get_value_int32(env, argv[0], &socket_fd) != napi_ok || napi_get_value_int32(env, argv[1], &file_fd) != napi_ok ||
      napi_get_value_int64(env, argv[2], &offset) != napi_ok || napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      socket_fd < 0 || file_fd < 0 || offset < 0 || length < 0) {
    return throw_error(env, "start: the descriptors, offset and length must be non-negative integers");
  }
  transfer_t *t = calloc(1, sizeof *t);
  if (t == NULL) return throw_error(env, "start: out of memory");
  pthread_mutex_init(&t->lock, NULL);
  t->offset = offset;
  t->remaining = length;
  t->socket_fd = fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
  t->file_fd = t->socket_fd < 0 ? -1 : fcntl(file_fd, F_DUPFD_CLOEXEC, 0);
  if (t->socket_fd < 0 || t->file_fd < 0) {
    free_unstarted(t);
    return throw_error(env, "start: could not duplicate the descriptors");
  }
  napi_value name;
  napi_create_string_utf8(env, "brume.sendfile", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[4], NULL, name, 0, 1, NULL, NULL, NULL, deliver, &t->done) != napi_ok) {
    free_unstarted(t);
    return throw_error(env, "start: done must be a function");
  }
  napi_value handle;
  if (napi_create_external(env, t, finalize_handle, NULL, &handle) != napi_ok) {
    napi_release_threadsafe_function(t->done, napi_tsfn_abort);
    free_unstarted(t);
    return throw_error(env, "start: could not make the handle");
  }
  t->refs = 2;
  int failed = start_detached(run, t, 64 << 10);
  if (failed) {
    // The handle is already the JS side's; the transfer ends at once with the reason.
    close(t->socket_fd);
    close(t->file_fd);
    t->socket_fd = t->file_fd = -1;
    t->error = failed;
    napi_call_threadsafe_function(t->done, t, napi_tsfn_blocking);
    napi_release_threadsafe_function(t->done, napi_tsfn_release);
  }
  return handle;
}

// cancel(handle): stop a transfer still running; its done() follows with ECANCELED or the socket's error.
napi_value sendfile_cancel(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  transfer_t *t = external_argument(env, info, 1, argv, "sendfileCancel(handle)");
  if (t == NULL) return NULL;
  pthread_mutex_lock(&t->lock);
  t->cancelled = 1;
  // Wakes the thread from poll(); under the lock, so the descriptor cannot have been closed and reused.
  if (t->socket_fd >= 0) shutdown(t->socket_fd, SHUT_RDWR);
  pthread_mutex_unlock(&t->lock);
  return NULL;
}
