#!/usr/bin/env python3
"""
PyTorch side of `npm run bench`: trains the same minGPT architecture as GPT Lab's default model (pre-norm
LayerNorm, learned absolute positions, fused QKV, GELU tanh, 4x MLP, untied lm_head without bias) with AdamW
(lr 3e-4, betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matmul weights only) and global-norm clipping at 1.0,
and reports median ms/step after warm-up. bench/throughput.ts runs it once per config, right after its own
measurement of the same config, so both see the same machine load.

    /usr/bin/python3 bench/torch_reference.py --threads 2 --vocab 33 --steps 20 --warmup 3 \
        --config '{"name": "S", "nLayer": 2, "nHead": 2, "nEmbd": 64, "blockSize": 32, "batchSize": 32}'
    /usr/bin/python3 bench/torch_reference.py --threads 2 --peak      # 2-D matmul peak only

Prints one JSON object on stdout. Debian's python3-torch links the system BLAS: install libopenblas0-openmp
(or libopenblas0-pthread), or torch runs on the reference BLAS at a fraction of its speed.
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--config", type=str, default=None, help="JSON: name, nLayer, nHead, nEmbd, blockSize, batchSize")
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--peak", action="store_true", help="measure the 2-D matmul peak (n = 1024, best of 5)")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


ARGS = parse_args()
# Thread counts must be fixed before torch (and OpenMP) start.
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)


def blas_name():
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
        for name in ("openblas-openmp", "openblas-pthread", "openblas-serial", "mkl", "blis", "atlas"):
            if name in maps:
                return name
        if "/blas/libblas.so" in maps:
            return "reference-blas"
    except OSError:
        pass
    return "unknown"


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, n_layer, n_head, n_embd, block_size):
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab, bias=False)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))
            elif p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        B, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def optimizer_for(model):
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            (decay if isinstance(module, nn.Linear) and name == "weight" else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=3e-4, betas=(0.9, 0.95), eps=1e-8)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(cfg):
    torch.manual_seed(ARGS.seed)
    B, T = cfg["batchSize"], cfg["blockSize"]
    model = GPT(ARGS.vocab, cfg["nLayer"], cfg["nHead"], cfg["nEmbd"], T)
    opt = optimizer_for(model)
    total = ARGS.steps + ARGS.warmup
    data = torch.randint(0, ARGS.vocab, (total, B, T + 1))
    xs, ys = data[:, :, :T].contiguous(), data[:, :, 1:].contiguous()
    rss_before = rss_mb()
    times = []
    cpu = []
    for step in range(total):
        t0 = time.perf_counter()
        c0 = time.process_time()
        x, y = xs[step], ys[step]
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        if step >= ARGS.warmup:
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
    ms = statistics.median(times)
    return {
        "config": cfg["name"],
        "params": sum(p.numel() for p in model.parameters()),
        "msPerStep": ms,
        "tokensPerSecond": B * T / (ms / 1000),
        # CPU time of all threads per step (with OMP_WAIT_POLICY=passive idle threads do not burn CPU).
        "cpuMsPerStep": statistics.median(cpu),
        "rssMB": rss_mb(),
        "rssGrowthMB": rss_mb() - rss_before,
        "finalLoss": loss.item(),
    }


def matmul_peak(n=1024, repeats=5):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    a @ b
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def main():
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": None}
    if ARGS.peak:
        out["matmulPeakGflops"] = matmul_peak()
    if ARGS.config:
        out.update(train(json.loads(ARGS.config)))
    out["blas"] = blas_name()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
