{
  "targets": [
    {
      "target_name": "stepcoder_native",
      "sources": ["native/kernels.c", "native/gemm.c"],
      "cflags": ["-O3", "-std=c11", "-fno-strict-aliasing"],
      "cflags!": ["-O2"],
      "libraries": ["-ldl", "-lpthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
