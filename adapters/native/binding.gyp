{
  "targets": [
    {
      "target_name": "brume_native",
      "sources": ["addon.c", "sendfile.c", "tftp-transfer.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
