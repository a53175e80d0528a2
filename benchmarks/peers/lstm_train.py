"""Market2Vec + stacked LSTM training and inference in PyTorch on the CPU; the peer of `tradesim bench nn`.

x (B, T, F) → Linear(F → E) + ReLU → LSTM(E → H, L layers, batch_first) → the last layer's final hidden state →
Linear(H → A); MSE against random targets, Adam (lr 1e-3). For each shape: the training step (forward, backward,
Adam) as the median of REPEATS timed repeats after a warm-up, in ms and in samples (sequences) per second; the forward
pass of one sequence of T = --infer-t bars; the achieved GFLOP/s counting the products only,
3 · (2·B·T·F·E + Σ_layers 2·B·T·(in + H)·4H). Prints one JSON line.

Usage: python lstm_train.py [--threads 2] [--repeats 5] [--infer-t 64] [--configs small,medium,paper]
"""
import argparse
import json
import statistics

import torch
import torch.nn as nn

from common import per_call_seconds

SHAPES = {  # the shapes of `tradesim bench nn --shape …`
    "small": dict(F=20, E=32, H=64, L=1, T=32, B=64, A=3),
    "medium": dict(F=400, E=128, H=128, L=2, T=64, B=64, A=3),
    "paper": dict(F=4000, E=300, H=300, L=2, T=64, B=32, A=3),
}


class Market2VecLSTM(nn.Module):
    def __init__(self, F, E, H, L, A):
        super().__init__()
        self.embed = nn.Linear(F, E)
        self.lstm = nn.LSTM(E, H, num_layers=L, batch_first=True)
        self.head = nn.Linear(H, A)

    def forward(self, x):
        _, (h, _) = self.lstm(torch.relu(self.embed(x)))
        return self.head(h[-1])


def forward_flops(F, E, H, L, T, B, **_):
    """Multiply-adds × 2 of the embedding and the LSTM's products for one forward pass."""
    return 2 * B * T * F * E + sum(2 * B * T * ((E if layer == 0 else H) + H) * 4 * H for layer in range(L))


def measure(shape, repeats, infer_t):
    torch.manual_seed(0)
    net = Market2VecLSTM(shape["F"], shape["E"], shape["H"], shape["L"], shape["A"])
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(shape["B"], shape["T"], shape["F"]), torch.randn(shape["B"], shape["A"])

    def train_step():
        adam.zero_grad(set_to_none=True)
        nn.functional.mse_loss(net(x), y).backward()
        adam.step()

    net.train()
    train, train_batch = per_call_seconds(train_step, repeats)
    median = statistics.median(train)

    net.eval()
    one = torch.randn(1, infer_t, shape["F"])

    def infer():
        with torch.inference_mode():
            net(one)

    inference, inference_batch = per_call_seconds(infer, repeats)
    flops = 3 * forward_flops(**shape)  # forward + backward ≈ 3 forwards
    return {**shape, "params": sum(p.numel() for p in net.parameters()),
            "train_step_ms_median": round(median * 1e3, 3), "train_step_ms_min": round(min(train) * 1e3, 3),
            "train_step_ms_max": round(max(train) * 1e3, 3), "train_iters_per_repeat": train_batch,
            "train_samples_per_s": round(shape["B"] / median, 1), "train_gflop_per_step": round(flops / 1e9, 3),
            "train_gflops_achieved": round(flops / median / 1e9, 2), "infer_T": infer_t,
            "infer_b1_ms_median": round(statistics.median(inference) * 1e3, 4),
            "infer_b1_ms_min": round(min(inference) * 1e3, 4), "infer_iters_per_repeat": inference_batch}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--infer-t", type=int, default=64)
    parser.add_argument("--configs", default="small,medium,paper", help="shapes, comma-separated: " + ", ".join(SHAPES))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = {"bench": "lstm_train", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "cpu_capability": torch.backends.cpu.get_cpu_capability(), "repeats": args.repeats}
    for name in args.configs.split(","):
        out[name] = measure(SHAPES[name], args.repeats, args.infer_t)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
