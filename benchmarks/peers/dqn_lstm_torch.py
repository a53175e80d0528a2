"""Double DQN with a Market2Vec + LSTM Q-network in PyTorch, CleanRL-style, on a numpy replay environment over the
repository's S&P 500 daily bars: the same work as `tradesim bench agent --algo dqn`.

Environment: one asset; each bar has 5 features (log return, log high/low, log close/open, log volume change, 20-bar
standard deviation of the log return), standardised with the first 2,500 bars' mean and deviation; the observation is
the last 32 bars; actions short / flat / long; reward = position · next log return − 10 bps · |position change|. The
replay buffer stores bar indices, not windows.
Q-network: Linear(5 → 32) + ReLU → LSTM(32 → 64, 1 layer) → last hidden state → Linear(64 → 3).
Training: Double DQN, Huber loss, Adam (lr 1e-4), γ 0.99, gradient norm clipped at 10, batch 64, one update every 4 env
steps from step 1,000, target network copied every 1,000 steps, ε from 1 to 0.05 over 10,000 steps.
steps/s = timesteps / wall time of the whole loop (acting, environment and updates). Prints one JSON line.

Usage: python dqn_lstm_torch.py [--timesteps 20000] [--threads 2]
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from common import sp500_frame

WINDOW, FEATURES, EMBEDDING, HIDDEN, ACTIONS = 32, 5, 32, 64, 3
BATCH, GAMMA, COST = 64, 0.99, 0.001
POSITIONS = np.array([-1.0, 0.0, 1.0], np.float32)
FLAT = 1


def features():
    """(bars, 5) standardised features and the log returns, as float32."""
    frame = sp500_frame()
    o, h, l, c, v = (frame[k].to_numpy(np.float64) for k in ["Open", "High", "Low", "Close", "Volume"])
    log_return = np.diff(np.log(c), prepend=np.log(c[0]))
    deviation = pd.Series(log_return).rolling(20, min_periods=1).std().fillna(0).to_numpy()
    volume_change = np.diff(np.log(np.maximum(v, 1)), prepend=np.log(max(v[0], 1)))
    x = np.stack([log_return, np.log(h / l), np.log(c / o), volume_change, deviation], axis=1)
    x = (x - x[:2500].mean(0)) / (x[:2500].std(0) + 1e-8)
    return x.astype(np.float32), log_return.astype(np.float32)


class QNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(FEATURES, EMBEDDING)
        self.lstm = nn.LSTM(EMBEDDING, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, ACTIONS)

    def forward(self, x):
        _, (h, _) = self.lstm(torch.relu(self.embed(x)))
        return self.head(h[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x, log_return = features()
    bars = len(x)
    offsets = np.arange(WINDOW)[None, :] - WINDOW + 1  # a window ends at its bar

    def windows(ends):
        return torch.from_numpy(x[ends[:, None] + offsets])

    q, target = QNetwork(), QNetwork()
    target.load_state_dict(q.state_dict())
    adam = torch.optim.Adam(q.parameters(), lr=1e-4)
    n = args.timesteps
    bar_of = np.zeros(n, np.int64)
    action_of = np.zeros(n, np.int64)
    reward_of = np.zeros(n, np.float32)
    done_of = np.zeros(n, np.float32)

    t, position, episode_return, episode_returns = WINDOW, FLAT, 0.0, []
    start = time.perf_counter()
    for step in range(n):
        epsilon = max(0.05, 1.0 - 0.95 * step / 10_000)
        if rng.random() < epsilon:
            action = int(rng.integers(ACTIONS))
        else:
            with torch.no_grad():
                action = int(q(windows(np.array([t]))).argmax(1))
        reward = POSITIONS[action] * log_return[t + 1] - COST * abs(POSITIONS[action] - POSITIONS[position])
        done = t + 1 >= bars - 1
        bar_of[step], action_of[step], reward_of[step], done_of[step] = t, action, reward, done
        episode_return += reward
        position, t = action, t + 1
        if done:
            episode_returns.append(episode_return)
            t, position, episode_return = WINDOW, FLAT, 0.0

        if step >= 1000 and step % 4 == 0:
            j = rng.integers(0, step + 1, BATCH)
            now, after = windows(bar_of[j]), windows(np.minimum(bar_of[j] + 1, bars - 1))
            with torch.no_grad():
                best = q(after).argmax(1, keepdim=True)
                bootstrap = target(after).gather(1, best).squeeze(1)
                y = torch.from_numpy(reward_of[j]) + GAMMA * (1 - torch.from_numpy(done_of[j])) * bootstrap
            taken = q(now).gather(1, torch.from_numpy(action_of[j])[:, None]).squeeze(1)
            loss = nn.functional.smooth_l1_loss(taken, y)
            adam.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(q.parameters(), 10.0)
            adam.step()
        if step % 1000 == 0:
            target.load_state_dict(q.state_dict())
    wall = time.perf_counter() - start
    print(json.dumps({"bench": "dqn_lstm_torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "timesteps": n, "wall_s": round(wall, 2), "steps_per_s": round(n / wall, 1),
                      "episodes": len(episode_returns)}))


if __name__ == "__main__":
    main()
