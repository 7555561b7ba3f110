// One TFTP read transfer (RFC 1350, with RFC 2347 options and RFC 7440
// windows) on a thread and a UDP socket of its own, as tftpd-hpa runs one
// process per transfer.
//
// The rules are those of adapters/tftp/tftp-transfer.ts, which documents
// why (go-back-N from the client's ACK, duplicate ACKs never trigger a
// send, exponential back-off, a budget of resent bytes). Done in
// JavaScript, every block costs an event-loop wake-up and a call into
// libuv; a lone lock-step client then waits on those for each block. Here
// the thread sleeps in poll() on its socket and answers each ACK at once.
//
// The file's bytes are read straight from the Buffer the server holds
// (kept alive by a reference until the transfer ends); counters go back to
// JavaScript once, at the end.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "brume.h"

enum { OP_DATA = 3, OP_ACK = 4, OP_ERROR = 5 };

typedef struct {
  pthread_mutex_t lock;
  int sock;
  int wake[2];  // cancel() writes to wake[1]; the thread polls wake[0]
  struct sockaddr_in peer;
  const uint8_t *data;
  size_t size;
  napi_ref data_ref;
  uint32_t blksize;
  uint32_t windowsize;
  uint8_t *oack;
  size_t oack_len;
  int base_timeout_ms;
  int max_timeout_ms;
  int retries;
  double budget;
  int cancelled;
  char abort_message[160];
  // State, the thread's alone.
  int64_t blocks;
  int64_t acked;
  int64_t next;
  int64_t highest_sent;
  int awaiting_oack;
  int timeout_ms;
  int max_timeout_reached;
  int consecutive_timeouts;
  int64_t deadline_ms;
  // Outcome and counters, read by deliver() after the thread is done.
  int ended;
  int ok;
  const char *reason;
  char message[320];
  double blocks_sent, bytes_sent, retransmitted_blocks, retransmitted_bytes;
  double timeouts, duplicate_acks, go_backs, strays;
  double budget_bytes;  // resent payload, an empty last block counted as one byte
  napi_threadsafe_function done;
  int refs;
} tftp_t;

// How long the thread looks for the next packet before it sleeps in poll().
#define SPIN_US 30

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void release(tftp_t *t) {
  if (drop_reference(&t->lock, &t->refs) == 0) {
    pthread_mutex_destroy(&t->lock);
    free(t->oack);
    free(t);
  }
}

static void send_to(tftp_t *t, const struct sockaddr_in *to, const struct iovec *parts, int count) {
  struct msghdr m = { .msg_name = (void *)to, .msg_namelen = sizeof *to, .msg_iov = (struct iovec *)parts, .msg_iovlen = count };
  while (sendmsg(t->sock, &m, 0) < 0 && errno == EINTR) {
  }
}

static void send_error_to(tftp_t *t, const struct sockaddr_in *to, int code, const char *message) {
  uint8_t head[4] = { 0, OP_ERROR, (uint8_t)(code >> 8), (uint8_t)code };
  struct iovec parts[2] = { { head, 4 }, { (void *)message, strlen(message) + 1 } };
  send_to(t, to, parts, 2);
}

static void end(tftp_t *t, int ok, const char *reason, const char *message) {
  t->ended = 1;
  t->ok = ok;
  t->reason = reason;
  snprintf(t->message, sizeof t->message, "%s", message);
}

static void arm(tftp_t *t) {
  t->deadline_ms = now_ms() + t->timeout_ms;
}

static void progressed(tftp_t *t) {
  t->consecutive_timeouts = 0;
  t->timeout_ms = t->base_timeout_ms;
}

// Blocks sent by one sendmmsg: a whole window of the usual sizes in one system call.
#define BATCH 64

typedef struct {
  struct mmsghdr messages[BATCH];
  struct iovec parts[BATCH][2];
  uint8_t heads[BATCH][4];
  int count;
} batch_t;

static void flush(tftp_t *t, batch_t *b) {
  int sent = 0;
  while (sent < b->count) {
    int n = sendmmsg(t->sock, b->messages + sent, (unsigned)(b->count - sent), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // as with a lost datagram: the client's ACK or the timer sorts it out
    }
    sent += n;
  }
  b->count = 0;
}

static void queue_block(tftp_t *t, batch_t *b, int64_t block) {
  size_t start = (size_t)(block - 1) * t->blksize;
  size_t length = start >= t->size ? 0 : (t->size - start < t->blksize ? t->size - start : t->blksize);
  int i = b->count++;
  uint8_t *head = b->heads[i];
  head[0] = 0;
  head[1] = OP_DATA;
  head[2] = (uint8_t)((block >> 8) & 0xff);
  head[3] = (uint8_t)(block & 0xff);
  b->parts[i][0] = (struct iovec){ head, 4 };
  b->parts[i][1] = (struct iovec){ (void *)(t->data + start), length };
  b->messages[i].msg_hdr = (struct msghdr){ .msg_name = &t->peer, .msg_namelen = sizeof t->peer, .msg_iov = b->parts[i], .msg_iovlen = length ? 2 : 1 };
  t->blocks_sent++;
  t->bytes_sent += (double)length;
  if (block <= t->highest_sent) {
    t->retransmitted_blocks++;
    t->retransmitted_bytes += (double)length;
    t->budget_bytes += length ? (double)length : 1;
  } else {
    t->highest_sent = block;
  }
  if (b->count == BATCH) flush(t, b);
}

static void send_window(tftp_t *t) {
  batch_t b;
  b.count = 0;
  int64_t last = t->acked + t->windowsize < t->blocks ? t->acked + t->windowsize : t->blocks;
  while (t->next <= last) queue_block(t, &b, t->next++);
  flush(t, &b);
  if (t->budget_bytes > t->budget) {
    char message[320];
    snprintf(message, sizeof message,
             "too many retransmissions (%.0f bytes resent for a %zu-byte file): the network loses too many packets; try a smaller windowsize",
             t->budget_bytes, t->size);
    send_error_to(t, &t->peer, 0, message);
    end(t, 0, "retransmit-budget", message);
  }
}

static void send_oack(tftp_t *t) {
  struct iovec part = { t->oack, t->oack_len };
  send_to(t, &t->peer, &part, 1);
}

static void acknowledged(tftp_t *t, unsigned wire) {
  if (t->awaiting_oack) {
    if (wire != 0) return;
    t->awaiting_oack = 0;
    progressed(t);
    send_window(t);
    arm(t);
    return;
  }
  // 16-bit block numbers wrap: the ACK means the block at its distance from the last ACK.
  unsigned distance = (wire - (unsigned)(t->acked & 0xffff)) & 0xffff;
  if (distance == 0) {
    t->duplicate_acks++;
    return;
  }
  int64_t block = t->acked + distance;
  if (block >= t->next) return;
  t->acked = block;
  progressed(t);
  if (block == t->blocks) {
    end(t, 1, NULL, "");
    return;
  }
  if (block < t->next - 1) {
    t->go_backs++;
    t->next = block + 1;
  }
  send_window(t);
  arm(t);
}

static void timed_out(tftp_t *t) {
  t->timeouts++;
  t->consecutive_timeouts++;
  if (t->consecutive_timeouts > t->retries) {
    char message[160];
    snprintf(message, sizeof message, "no answer from the client after %d retransmissions", t->retries);
    send_error_to(t, &t->peer, 0, message);
    end(t, 0, "timeout", message);
    return;
  }
  int cap = t->max_timeout_ms > t->base_timeout_ms ? t->max_timeout_ms : t->base_timeout_ms;
  t->timeout_ms = t->timeout_ms * 2 < cap ? t->timeout_ms * 2 : cap;
  if (t->timeout_ms > t->max_timeout_reached) t->max_timeout_reached = t->timeout_ms;
  if (t->awaiting_oack) {
    send_oack(t);
  } else {
    t->next = t->acked + 1;
    send_window(t);
  }
  arm(t);
}

static void received(tftp_t *t, const uint8_t *packet, ssize_t n, const struct sockaddr_in *from) {
  if (from->sin_port != t->peer.sin_port || from->sin_addr.s_addr != t->peer.sin_addr.s_addr) {
    t->strays++;
    // Never answer an ERROR with an ERROR (RFC 1350), nor a packet too short to be TFTP.
    if (n >= 2 && !(packet[0] == 0 && packet[1] == OP_ERROR)) send_error_to(t, from, 5, "Unknown transfer ID");
    return;
  }
  if (n < 4) return;
  unsigned opcode = (unsigned)packet[0] << 8 | packet[1];
  if (opcode == OP_ACK) {
    acknowledged(t, (unsigned)packet[2] << 8 | packet[3]);
  } else if (opcode == OP_ERROR) {
    unsigned code = (unsigned)packet[2] << 8 | packet[3];
    const uint8_t *nul = memchr(packet + 4, 0, (size_t)n - 4);
    int length = nul ? (int)(nul - (packet + 4)) : 0;
    if (length > 200) length = 200;
    // UEFI PXE asks for a file once only to learn its size (tsize), then aborts after the OACK: normal, not a failure.
    int probe = t->awaiting_oack && t->acked == 0 && t->oack != NULL;
    char message[320];
    snprintf(message, sizeof message, "%s: ERROR %u%s%.*s",
             probe ? "client read the size and ended the transfer" : "client ended the transfer",
             code, length ? " " : "", length, (const char *)packet + 4);
    end(t, 0, probe ? "size-probe" : "client-error", message);
  } else {
    char message[96];
    snprintf(message, sizeof message, "opcode %u is not expected from a reading client", opcode);
    send_error_to(t, &t->peer, 4, message);
    snprintf(message, sizeof message, "client sent opcode %u during a read", opcode);
    end(t, 0, "protocol", message);
  }
}

static void *run(void *arg) {
  tftp_t *t = arg;
  uint8_t packet[65536];
  if (t->oack) send_oack(t);
  else send_window(t);
  arm(t);
  while (!t->ended) {
    int64_t wait = t->deadline_ms - now_ms();
    if (wait <= 0) {
      timed_out(t);
      continue;
    }
    // A client on the same link answers within microseconds: look for its ACK for a moment before
    // going to sleep, which would cost a wake-up on every block of a lock-step transfer.
    {
      int64_t spin_until = now_us() + SPIN_US;
      struct sockaddr_in from;
      socklen_t from_len = sizeof from;
      ssize_t n = -1;
      do {
        from_len = sizeof from;
        n = recvfrom(t->sock, packet, sizeof packet, MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
      } while (n < 0 && errno == EAGAIN && now_us() < spin_until);
      if (n >= 0) {
        received(t, packet, n, &from);
        continue;
      }
    }
    struct pollfd fds[2] = { { .fd = t->sock, .events = POLLIN }, { .fd = t->wake[0], .events = POLLIN } };
    int ready = poll(fds, 2, wait > 60000 ? 60000 : (int)wait);
    if (ready < 0) {
      if (errno == EINTR) continue;
      end(t, 0, "socket", strerror(errno));
      break;
    }
    if (fds[1].revents) {
      pthread_mutex_lock(&t->lock);
      char message[160];
      snprintf(message, sizeof message, "%s", t->abort_message);
      pthread_mutex_unlock(&t->lock);
      send_error_to(t, &t->peer, 0, message);
      end(t, 0, "closed", message);
      break;
    }
    if (!fds[0].revents) continue;
    // One datagram per wake-up: when more are waiting, poll returns at once, and a lone lock-step
    // client costs no extra read that finds nothing.
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(t->sock, packet, sizeof packet, MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED) end(t, 0, "socket", strerror(errno));
      continue;
    }
    received(t, packet, n, &from);
  }
  pthread_mutex_lock(&t->lock);
  close(t->sock);
  close(t->wake[0]);
  close(t->wake[1]);
  t->sock = t->wake[0] = t->wake[1] = -1;
  pthread_mutex_unlock(&t->lock);
  napi_call_threadsafe_function(t->done, t, napi_tsfn_blocking);
  napi_release_threadsafe_function(t->done, napi_tsfn_release);
  return NULL;
}

static void set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, object, name, v);
}

// On the event loop: done({ ok, reason, message, counters... }).
static void deliver(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  tftp_t *t = data;
  if (env != NULL) {
    napi_delete_reference(env, t->data_ref);
    if (callback != NULL) {
      napi_value result, value, global;
      napi_create_object(env, &result);
      napi_get_boolean(env, t->ok, &value);
      napi_set_named_property(env, result, "ok", value);
      if (!t->ok) {
        napi_create_string_utf8(env, t->reason, NAPI_AUTO_LENGTH, &value);
        napi_set_named_property(env, result, "reason", value);
        napi_create_string_utf8(env, t->message, NAPI_AUTO_LENGTH, &value);
        napi_set_named_property(env, result, "message", value);
      }
      set_number(env, result, "blocksSent", t->blocks_sent);
      set_number(env, result, "bytesSent", t->bytes_sent);
      set_number(env, result, "retransmittedBlocks", t->retransmitted_blocks);
      set_number(env, result, "retransmittedBytes", t->retransmitted_bytes);
      set_number(env, result, "timeouts", t->timeouts);
      set_number(env, result, "duplicateAcks", t->duplicate_acks);
      set_number(env, result, "goBacks", t->go_backs);
      set_number(env, result, "strays", t->strays);
      set_number(env, result, "budgetBytes", t->budget_bytes);
      set_number(env, result, "maxTimeoutMs", t->max_timeout_reached);
      napi_get_global(env, &global);
      napi_call_function(env, global, callback, 1, &result, NULL);
    }
  }
  release(t);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release(data);
}

static int int_arg(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

// tftpStart(localAddress, peerAddress, peerPort, data, blksize, windowsize, oack | null,
//           timeoutMs, maxTimeoutMs, retries, retransmitBudget, done) -> [handle, localPort]
napi_value tftp_start(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 12) return throw_error(env, "tftpStart: 12 arguments");
  char local[64], peer[64];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], local, sizeof local, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], peer, sizeof peer, &len) != napi_ok) {
    return throw_error(env, "tftpStart: the addresses must be strings");
  }
  int64_t peer_port, blksize, windowsize, timeout_ms, max_timeout_ms, retries;
  double budget;
  void *data;
  size_t size;
  bool is_buffer;
  if (!int_arg(env, argv[2], &peer_port) || napi_is_buffer(env, argv[3], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[3], &data, &size) != napi_ok || !int_arg(env, argv[4], &blksize) ||
      !int_arg(env, argv[5], &windowsize) || !int_arg(env, argv[7], &timeout_ms) || !int_arg(env, argv[8], &max_timeout_ms) ||
      !int_arg(env, argv[9], &retries) || napi_get_value_double(env, argv[10], &budget) != napi_ok ||
      peer_port < 1 || peer_port > 65535 || blksize < 8 || blksize > 65464 || windowsize < 1 || windowsize > 65535 ||
      timeout_ms < 1 || max_timeout_ms < 1 || retries < 0) {
    return throw_error(env, "tftpStart: a port, a Buffer, and positive sizes and timeouts are required");
  }
  tftp_t *t = calloc(1, sizeof *t);
  if (t == NULL) return throw_error(env, "tftpStart: out of memory");
  pthread_mutex_init(&t->lock, NULL);
  t->sock = -1;
  t->wake[0] = t->wake[1] = -1;
  napi_valuetype oack_type;
  napi_typeof(env, argv[6], &oack_type);
  if (oack_type != napi_null && oack_type != napi_undefined) {
    void *oack;
    if (napi_get_buffer_info(env, argv[6], &oack, &t->oack_len) != napi_ok || (t->oack = malloc(t->oack_len)) == NULL) {
      pthread_mutex_destroy(&t->lock);
      free(t);
      return throw_error(env, "tftpStart: the OACK must be a Buffer or null");
    }
    memcpy(t->oack, oack, t->oack_len);
  }
  const char *failure = NULL;
  struct sockaddr_in bind_to = { .sin_family = AF_INET };
  t->peer.sin_family = AF_INET;
  t->peer.sin_port = htons((uint16_t)peer_port);
  if (inet_pton(AF_INET, local, &bind_to.sin_addr) != 1 || inet_pton(AF_INET, peer, &t->peer.sin_addr) != 1) failure = "tftpStart: the addresses must be IPv4 literals";
  else if ((t->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) failure = strerror(errno);
  else if (bind(t->sock, (struct sockaddr *)&bind_to, sizeof bind_to) < 0) failure = strerror(errno);
  else if (pipe2(t->wake, O_CLOEXEC) < 0) failure = strerror(errno);
  struct sockaddr_in bound;
  socklen_t bound_len = sizeof bound;
  if (!failure && getsockname(t->sock, (struct sockaddr *)&bound, &bound_len) < 0) failure = strerror(errno);
  napi_value name, handle;
  if (!failure) {
    napi_create_string_utf8(env, "brume.tftp", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[11], NULL, name, 0, 1, NULL, NULL, NULL, deliver, &t->done) != napi_ok) failure = "tftpStart: done must be a function";
  }
  if (failure) {
    if (t->sock >= 0) close(t->sock);
    if (t->wake[0] >= 0) close(t->wake[0]);
    if (t->wake[1] >= 0) close(t->wake[1]);
    pthread_mutex_destroy(&t->lock);
    free(t->oack);
    free(t);
    return throw_error(env, failure);
  }
  napi_create_reference(env, argv[3], 1, &t->data_ref);
  t->data = data;
  t->size = size;
  t->blksize = (uint32_t)blksize;
  t->windowsize = (uint32_t)windowsize;
  t->base_timeout_ms = t->timeout_ms = t->max_timeout_reached = (int)timeout_ms;
  t->max_timeout_ms = (int)max_timeout_ms;
  t->retries = (int)retries;
  t->budget = budget;
  t->blocks = (int64_t)(size / t->blksize) + 1;
  t->next = 1;
  t->awaiting_oack = t->oack != NULL;
  snprintf(t->abort_message, sizeof t->abort_message, "%s", "server shutting down");
  t->refs = 2;
  napi_create_external(env, t, finalize_handle, NULL, &handle);
  // The thread's own frame holds one 64 KiB packet buffer.
  int failed = start_detached(run, t, 256 << 10);
  if (failed) {
    close(t->sock);
    close(t->wake[0]);
    close(t->wake[1]);
    t->sock = t->wake[0] = t->wake[1] = -1;
    end(t, 0, "socket", strerror(failed));
    napi_call_threadsafe_function(t->done, t, napi_tsfn_blocking);
    napi_release_threadsafe_function(t->done, napi_tsfn_release);
  }
  napi_value result, port;
  napi_create_array_with_length(env, 2, &result);
  napi_create_int32(env, ntohs(bound.sin_port), &port);
  napi_set_element(env, result, 0, handle);
  napi_set_element(env, result, 1, port);
  return result;
}

// tftpCancel(handle, message): the transfer sends ERROR 0 with the message and ends as `closed`.
napi_value tftp_cancel(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  tftp_t *t = external_argument(env, info, 2, argv, "tftpCancel(handle, message)");
  if (t == NULL) return NULL;
  char message[160];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[1], message, sizeof message, &len) != napi_ok) message[0] = 0;
  pthread_mutex_lock(&t->lock);
  if (!t->cancelled && t->wake[1] >= 0) {
    t->cancelled = 1;
    snprintf(t->abort_message, sizeof t->abort_message, "%s", message);
    while (write(t->wake[1], "x", 1) < 0 && errno == EINTR) {
    }
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}
