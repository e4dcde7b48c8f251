{
  "targets": [
    {
      "target_name": "gpt_lab_blas",
      "sources": ["gemm.c"],
      "cflags": ["-O2"],
      "conditions": [["OS=='linux'", {"libraries": ["-ldl", "-lpthread"]}]]
    }
  ]
}
