#!/usr/bin/env python3
"""Writes NeuralCore's PyTorch reference fixtures into Tests/NeuralCoreTests/Fixtures/.

CI never runs this; re-run it by hand from the repository root, in a virtual environment beside the repository's files
(the committed fixtures were made with torch 2.15.0):
    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install torch safetensors numpy
    .venv-fixtures/bin/python scripts/make_nn_fixtures.py

Files:
  tiny_network_h12.json  the same with H=12 (exercises the 8-lane gate loops and their tail).
  tiny_network.json    Market2Vec (F=6→E=5, ReLU) → LSTM(E→H=4, L=2) → Linear(H→3) on B=3, T=5, with non-zero initial
                       states: weights by state_dict name, input, initial states, targets, outputs, MSE loss, every
                       gradient by name (and of h0/c0), the losses of 10 Adam steps (lr 1e-2), 5 Adam steps with L2
                       weight decay and 5 AdamW steps.
  tiny_clip.json       the same network's gradients after clip_grad_norm_(max_norm=0.05), the norm, and the losses of
                       10 Adam steps (lr 1e-2) with clipping before each step.
  losses.json          Huber (δ=0.5), softmax cross-entropy (plain and weighted), categorical entropy, BCE with logits:
                       values and input gradients.
  tiny_network.safetensors  the tiny network's state_dict written by safetensors.torch.save_file.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as Fn
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "NeuralCoreTests", "Fixtures")
F, E, L, A, B, T = 6, 5, 2, 3, 3, 5
H = 4


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(F, E)
        self.lstm = nn.LSTM(E, H, num_layers=L, batch_first=True)
        self.head = nn.Linear(H, A)

    def forward(self, x, h0, c0):
        e = torch.relu(self.embed(x))
        seq, (hn, cn) = self.lstm(e, (h0, c0))
        return self.head(hn[-1])


def flat(t):
    return t.detach().reshape(-1).tolist()


def header():
    return {"torch": torch.__version__, "generator": "scripts/make_nn_fixtures.py"}


def make_problem():
    torch.manual_seed(0)
    net = Net()
    x = torch.randn(B, T, F)
    h0 = (0.5 * torch.randn(L, B, H)).requires_grad_()
    c0 = (0.5 * torch.randn(L, B, H)).requires_grad_()
    y = torch.randn(B, A)
    return net, x, h0, c0, y


def adam_losses(net, x, h0, c0, y, steps, make_opt, clip=None):
    opt = make_opt(net.parameters())
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = Fn.mse_loss(net(x, h0.detach(), c0.detach()), y)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    return losses


def tiny_network(name):
    net, x, h0, c0, y = make_problem()
    weights = {k: {"shape": list(v.shape), "values": flat(v)} for k, v in net.state_dict().items()}
    if name == "tiny_network":
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(OUT, f"{name}.safetensors"))
    out = net(x, h0, c0)
    loss = Fn.mse_loss(out, y)
    loss.backward()
    grads = {k: flat(p.grad) for k, p in net.named_parameters()}
    grads["h0"] = flat(h0.grad)
    grads["c0"] = flat(c0.grad)
    fixture = {
        "header": header(), "F": F, "E": E, "H": H, "L": L, "A": A, "B": B, "T": T,
        "weights": weights, "input": flat(x), "h0": flat(h0), "c0": flat(c0), "target": flat(y),
        "output": flat(out), "loss": loss.item(), "gradients": grads,
    }
    state = {k: v.clone() for k, v in net.state_dict().items()}
    fixture["adamLosses"] = adam_losses(net, x, h0, c0, y, 10, lambda p: torch.optim.Adam(p, lr=1e-2))
    net.load_state_dict(state)
    fixture["adamL2Losses"] = adam_losses(net, x, h0, c0, y, 5,
                                          lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=0.1))
    net.load_state_dict(state)
    fixture["adamWLosses"] = adam_losses(net, x, h0, c0, y, 5,
                                         lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1))
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(fixture, f)


def tiny_clip():
    net, x, h0, c0, y = make_problem()
    Fn.mse_loss(net(x, h0.detach(), c0.detach()), y).backward()
    max_norm = 0.05
    norm = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm)
    fixture = {"header": header(), "maxNorm": max_norm, "norm": norm.item(),
               "gradients": {k: flat(p.grad) for k, p in net.named_parameters()}}
    net2, x, h0, c0, y = make_problem()
    fixture["adamLosses"] = adam_losses(net2, x, h0, c0, y, 10, lambda p: torch.optim.Adam(p, lr=1e-2), clip=max_norm)
    with open(os.path.join(OUT, "tiny_clip.json"), "w") as f:
        json.dump(fixture, f)


def losses():
    torch.manual_seed(1)
    fixture = {"header": header()}
    pred = (torch.randn(4, 3) * 1.5).requires_grad_()
    target = torch.randn(4, 3)
    delta = 0.5
    loss = nn.HuberLoss(delta=delta)(pred, target)
    loss.backward()
    fixture["huber"] = {"delta": delta, "prediction": flat(pred), "target": flat(target),
                        "loss": loss.item(), "gradient": flat(pred.grad)}

    logits = (torch.randn(4, 5) * 2).requires_grad_()
    classes = torch.tensor([0, 3, 4, 1])
    loss = Fn.cross_entropy(logits, classes)
    loss.backward()
    fixture["crossEntropy"] = {"logits": flat(logits), "targets": classes.tolist(), "batch": 4, "classes": 5,
                               "loss": loss.item(), "gradient": flat(logits.grad)}
    logits.grad = None
    weights = torch.tensor([0.5, -1.0, 2.0, 0.25])
    loss = (Fn.cross_entropy(logits, classes, reduction="none") * weights).mean()
    loss.backward()
    fixture["weightedCrossEntropy"] = {"weights": weights.tolist(), "loss": loss.item(), "gradient": flat(logits.grad)}
    logits.grad = None
    logp = Fn.log_softmax(logits, dim=1)
    loss = -(logp.exp() * logp).sum(dim=1).mean()
    loss.backward()
    fixture["entropy"] = {"loss": loss.item(), "gradient": flat(logits.grad)}

    z = (torch.randn(4, 3) * 3).requires_grad_()
    y = torch.rand(4, 3)
    loss = Fn.binary_cross_entropy_with_logits(z, y)
    loss.backward()
    fixture["bce"] = {"logits": flat(z), "targets": flat(y), "loss": loss.item(), "gradient": flat(z.grad)}
    with open(os.path.join(OUT, "losses.json"), "w") as f:
        json.dump(fixture, f)


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    tiny_network("tiny_network")
    tiny_clip()
    losses()
    H = 12  # 8 vector lanes + a 4-wide scalar tail in the Swift gate loops
    tiny_network("tiny_network_h12")
