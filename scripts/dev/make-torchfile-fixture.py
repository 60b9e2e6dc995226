# Dev tooling only (not run by tests or the product): regenerates the torch.save fixture embedded in
# Tests/TorchNNTests/TorchFileTests.swift. Run with a Python that has torch (e.g. scripts/bench-venv.sh's).
import base64, collections, io
import torch

torch.manual_seed(0)
lin, bn = torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)
sd = collections.OrderedDict()
for k, v in lin.state_dict().items(): sd["head." + k] = v
for k, v in bn.state_dict().items(): sd["norm." + k] = v
base = torch.arange(12, dtype=torch.float64).reshape(3, 4)
sd["view.t"] = base.t()            # non-contiguous, shares storage with the next
sd["view.row"] = base[1]           # storage offset 4
sd["ints"] = torch.tensor([1, -2, 3], dtype=torch.int32)
sd["half"] = torch.tensor([0.5, -1.5], dtype=torch.float16)
sd["bf"] = torch.tensor([2.0, -0.25], dtype=torch.bfloat16)
sd["flags"] = torch.tensor([True, False])
sd["bytes"] = torch.tensor([7, 250], dtype=torch.uint8)
buf = io.BytesIO()
torch.save({"epoch": 3, "state_dict": sd, "hyper": {"lr": 0.001, "name": "x"}}, buf)
print(base64.b64encode(buf.getvalue()).decode())
