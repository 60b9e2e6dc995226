# Baseline of `kinema bench neural`: DwiseNeuro's training steps and inference in PyTorch's Python API.
# usage: python neural_baseline.py PRESET NEURONS(comma-separated) CANVAS TRAIN_BATCH INFER_BATCH ITERATIONS DEVICE THREADS
# prints "train_seconds infer_seconds peak_MiB" on its last line.
import sys, time, math, statistics, resource
import torch
from torch import nn

preset, neurons, canvas, train_batch, infer_batch, iterations, device, threads = sys.argv[1:9]
neurons = [int(v) for v in neurons.split(",")]
canvas, train_batch, infer_batch, iterations, threads = map(int, (canvas, train_batch, infer_batch, iterations, threads))
torch.set_num_threads(threads)
torch.manual_seed(0)
dev = torch.device(device)
if preset == "tiny":
    F, S, E, R, CX, BETA, DROP, DP = (8, 16, 16), (2, 2, 1), 3, 4, (64, 128), 1.0, 0.1, 0.05
else:
    F, S, E, R, CX, BETA, DROP, DP = (64, 64, 64, 64, 128, 128, 128, 256, 256), (2, 1, 1, 1, 2, 1, 1, 2, 1), 6, 32, (1024, 2048, 4096), 0.07, 0.4, 0.1
G, T = 2, 16

def drop_path(x, p, training):
    if p == 0 or not training: return x
    keep = 1 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep) / keep
    return x * mask

def tile(x, c):
    if x.shape[1] == c: return x
    reps = [1] * x.ndim; reps[1] = math.ceil(c / x.shape[1])
    return torch.tile(x, reps)[:, :c]

class BNAct(nn.Module):
    def __init__(self, c, act, bn=nn.BatchNorm3d):
        super().__init__(); self.bn = bn(c); self.act = nn.SiLU() if act else nn.Identity()
    def forward(self, x): return self.act(self.bn(x))

class SE(nn.Module):
    def __init__(self, c, r):
        super().__init__(); self.conv_reduce = nn.Conv3d(c, c // r, 1); self.conv_expand = nn.Conv3d(c // r, c, 1)
    def forward(self, x): return x * torch.sigmoid(self.conv_expand(nn.functional.silu(self.conv_reduce(x.mean((2, 3, 4), keepdim=True)))))

class Block(nn.Module):
    def __init__(self, ci, co, s, p):
        super().__init__(); m = ci * E; self.s, self.co, self.p = s, co, p
        self.conv_pw = nn.Sequential(nn.Conv3d(ci, m, 1, bias=False), BNAct(m, True))
        self.spat_covn_dw = nn.Sequential(nn.Conv3d(m, m, (1, 3, 3), (1, s, s), (0, 1, 1), groups=m, bias=False), BNAct(m, True))
        self.temp_covn_dw = nn.Sequential(nn.Conv3d(m, m, (5, 1, 1), 1, (2, 0, 0), groups=m, bias=False), BNAct(m, True))
        self.se = SE(m, R)
        self.conv_pwl = nn.Sequential(nn.Conv3d(m, co, 1, bias=False), BNAct(co, False))
        self.bn_sc = BNAct(co, False)
    def forward(self, x):
        y = self.conv_pwl(self.se(self.temp_covn_dw(self.spat_covn_dw(self.conv_pw(x)))))
        sc = x
        if self.s > 1:
            _, _, t, h, w = x.shape
            sc = nn.functional.interpolate(sc, size=(t, math.ceil(h / self.s), math.ceil(w / self.s)), mode="nearest")
        return drop_path(y, self.p, self.training) + self.bn_sc(tile(sc, self.co))

class PosEnc(nn.Module):
    def __init__(self, c):
        super().__init__(); self.c = c; self.P = math.ceil(c / 6) * 2
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, self.P, 2).float() / self.P))); self.cache = None
    def forward(self, x):
        if self.cache is None or self.cache.shape[2:] != x.shape[2:]:
            _, _, t, h, w = x.shape
            def emb(n):
                s = torch.einsum("i,j->ij", self.inv_freq, torch.arange(n, device=x.device).float())
                return torch.cat((s.sin(), s.cos()), 0)
            e = torch.zeros(3 * self.P, t, h, w, device=x.device)
            e[:self.P] = emb(t)[:, :, None, None]; e[self.P:2 * self.P] = emb(h)[:, None, :, None]; e[2 * self.P:] = emb(w)[:, None, None, :]
            self.cache = e[None, :self.c].contiguous()
        return x + self.cache

class Shuffle(nn.Module):
    def __init__(self, ci, co):
        super().__init__(); self.co = co
        self.conv = nn.Conv1d(ci, co, 1, groups=G, bias=False); self.bn = BNAct(co, True, nn.BatchNorm1d); self.bn_sc = BNAct(co, False, nn.BatchNorm1d)
    def forward(self, x):
        y = self.bn(self.conv(x)); b, c, t = y.shape
        y = y.view(b, G, -1, t).transpose(1, 2).reshape(b, -1, t)
        return drop_path(y, DP, self.training) + self.bn_sc(tile(x, self.co))

class Readout(nn.Module):
    def __init__(self, ci, n):
        super().__init__(); self.n = n
        self.layer = nn.Sequential(nn.Dropout1d(DROP), nn.Conv1d(ci, math.ceil(n / G) * G, 1, groups=G))
    def forward(self, x): return nn.functional.softplus(self.layer(x)[:, :self.n], beta=BETA)

class Core(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(5, F[0], 1, bias=False), BNAct(F[0], False))
        blocks = []
        for i in range(len(F)):
            blocks += [PosEnc(F[i]), Block(F[i], F[i + 1] if i + 1 < len(F) else F[i], S[i], DP * i / len(F))]
        self.blocks = nn.Sequential(*blocks)
    def forward(self, x): return self.blocks(self.stem(x))

class DwiseNeuro(nn.Module):
    def __init__(self):
        super().__init__()
        self.core = Core()
        layers, w = [], F[-1]
        for c in CX: layers.append(Shuffle(w, c)); w = c
        self.cortex = nn.Module(); self.cortex.layers = nn.Sequential(*layers)
        self.readouts = nn.ModuleList([Readout(w, n) for n in neurons])
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv3d)):
                fan_out = math.prod(m.kernel_size) * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
                if m.bias is not None: nn.init.zeros_(m.bias)
    def forward(self, x, index):
        x = self.core(x).mean((3, 4))
        return self.readouts[index](self.cortex.layers(x))

net = DwiseNeuro().to(dev)
opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
x = torch.rand(train_batch, 5, T, canvas, canvas, device=dev) * 255
y = torch.floor(torch.rand(train_batch, neurons[0], T, device=dev) * 2)

def sync():
    if dev.type == "cuda": torch.cuda.synchronize()

def step():
    opt.zero_grad(set_to_none=True)
    p = net.train()(x, 0)
    loss = (p - y * torch.log(p + 1e-8)).sum() / train_batch
    loss.backward(); opt.step(); loss.item()

def timed(f):
    sync(); t = time.perf_counter(); f(); sync(); return time.perf_counter() - t

step()
train = statistics.median(timed(step) for _ in range(iterations))
xi = torch.rand(infer_batch, 5, T, canvas, canvas, device=dev) * 255
def infer():
    with torch.no_grad(): net.eval()(xi, 0).sum().item()
infer()
inference = statistics.median(timed(infer) for _ in range(iterations))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(train, inference, peak)
