// The module's entry: one addon, one file per part (brume.h lists them).
#include <pthread.h>

#include "brume.h"

int drop_reference(pthread_mutex_t *lock, int *refs) {
  pthread_mutex_lock(lock);
  int left = --*refs;
  pthread_mutex_unlock(lock);
  return left;
}

int start_detached(void *(*run)(void *), void *arg, size_t stack) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, stack);
  pthread_t thread;
  int failed = pthread_create(&thread, &attr, run, arg);
  pthread_attr_destroy(&attr);
  return failed;
}

void *external_argument(napi_env env, napi_callback_info info, size_t argc, napi_value *argv, const char *usage) {
  size_t given = argc;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &given, argv, NULL, NULL) != napi_ok || given < argc || napi_get_value_external(env, argv[0], &data) != napi_ok) {
    throw_error(env, usage);
    return NULL;
  }
  return data;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
    { "sendfileStart", NULL, sendfile_start, NULL, NULL, NULL, napi_default, NULL },
    { "sendfileCancel", NULL, sendfile_cancel, NULL, NULL, NULL, napi_default, NULL },
    { "tftpStart", NULL, tftp_start, NULL, NULL, NULL, napi_default, NULL },
    { "tftpCancel", NULL, tftp_cancel, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
