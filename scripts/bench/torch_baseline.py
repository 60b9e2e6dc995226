# Baseline of `kinema bench torch`: the same ResNet training steps and inference in PyTorch's Python API.
# usage: python torch_baseline.py DEPTH SIZE TRAIN_BATCH INFER_BATCH DEVICE THREADS
# Serves timed runs for interleaved pairs: after "ready", each stdin line `train` or `infer` runs one training
# step or inference batch and answers its seconds on one line (the first of each is the warm-up; Kinema discards it).
# torchvision's ResNet written out (torchvision is not installed in the bench venv), same init and layout (NCHW, as LP).
import sys, time
import torch
from torch import nn

depth, size, train_batch, infer_batch, device, threads = sys.argv[1:7]
depth, size, train_batch, infer_batch, threads = map(int, (depth, size, train_batch, infer_batch, threads))
torch.set_num_threads(threads)
dev = torch.device(device)

class Block(nn.Module):
    def __init__(self, cin, width, stride, bottleneck):
        super().__init__()
        out = width * 4 if bottleneck else width
        if bottleneck:
            self.convs = nn.ModuleList([nn.Conv2d(cin, width, 1, bias=False), nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.Conv2d(width, out, 1, bias=False)])
            self.bns = nn.ModuleList([nn.BatchNorm2d(width), nn.BatchNorm2d(width), nn.BatchNorm2d(out)])
        else:
            self.convs = nn.ModuleList([nn.Conv2d(cin, width, 3, stride, 1, bias=False), nn.Conv2d(width, width, 3, 1, 1, bias=False)])
            self.bns = nn.ModuleList([nn.BatchNorm2d(width), nn.BatchNorm2d(width)])
        self.down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out)) if stride != 1 or cin != out else None
    def forward(self, x):
        y = x
        for i, (c, b) in enumerate(zip(self.convs, self.bns)):
            y = b(c(y))
            if i < len(self.convs) - 1: y = torch.relu(y)
        return torch.relu(y + (self.down(x) if self.down is not None else x))

plans = {18: (False, [2, 2, 2, 2]), 34: (False, [3, 4, 6, 3]), 50: (True, [3, 4, 6, 3]), 101: (True, [3, 4, 23, 3])}
bottleneck, blocks = plans[depth]
layers, cin = [], 64
for stage, n in enumerate(blocks):
    for b in range(n):
        layers.append(Block(cin, 64 << stage, 2 if b == 0 and stage > 0 else 1, bottleneck))
        cin = (64 << stage) * (4 if bottleneck else 1)
net = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                    *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000)).to(dev)
for m in net.modules():
    if isinstance(m, nn.Conv2d): nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.randn(train_batch, 3, size, size, device=dev)
y = torch.randint(0, 1000, (train_batch,), device=dev)

def sync():
    if dev.type == "cuda": torch.cuda.synchronize()

def step():
    opt.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(net.train()(x), y)
    loss.backward()
    opt.step()
    loss.item()

def timed(f):
    sync(); t = time.perf_counter(); f(); sync(); return time.perf_counter() - t

xi = torch.randn(infer_batch, 3, size, size, device=dev)
def infer():
    with torch.no_grad(): net.eval()(xi).sum().item()

runs = {"train": step, "infer": infer}
print("ready", flush=True)
for line in sys.stdin:
    print(timed(runs[line.strip()]), flush=True)
