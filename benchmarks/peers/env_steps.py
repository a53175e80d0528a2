"""Environment steps per second: gym-anytrading's stocks-v0 (through gym.make and unwrapped) and a minimal numpy replay
environment, on the repository's S&P 500 daily bars with a window of 10 bars; the peer of `tradesim bench env`.

Actions are drawn in advance, so only the environments are timed; resets at the end of an episode are timed too. Each
environment runs ROUNDS rounds of SECONDS / ROUNDS, interleaved with the others (a shared machine's speed drifts);
the median round is reported with the slowest and the fastest. Prints one JSON line.

Usage: python env_steps.py [--seconds 5] [--rounds 5]
"""
import argparse
import json
import time
import warnings

import gymnasium as gym
import gym_anytrading  # noqa: F401  (registers stocks-v0)
import numpy as np

from common import SP500, sp500_frame

WINDOW = 10
ACTIONS = 1 << 20  # pre-drawn actions, used cyclically


class ReplayEnv:
    """A replay environment in numpy alone, with the Gymnasium calls but no wrappers.

    observation: the last WINDOW closes relative to today's, close[t - k] / close[t] - 1 (k = WINDOW - 1 … 0);
    action: 0 short, 1 flat, 2 long, i.e. position a - 1;
    reward: position · (close[t + 1] / close[t] - 1) - cost · |position change|.
    """

    def __init__(self, closes, window=WINDOW, cost=1e-3):
        self.closes = np.asarray(closes, dtype=np.float64)
        self.next_return = np.append(self.closes[1:] / self.closes[:-1] - 1.0, 0.0)
        self.window, self.cost = window, cost

    def observation(self):
        t = self.t
        return (self.closes[t - self.window + 1:t + 1] / self.closes[t] - 1.0).astype(np.float32)

    def reset(self, seed=None):
        self.t, self.position = self.window - 1, 0
        return self.observation(), {}

    def step(self, action):
        position = int(action) - 1
        reward = position * self.next_return[self.t] - self.cost * abs(position - self.position)
        self.position = position
        self.t += 1
        return self.observation(), float(reward), False, self.t >= len(self.closes) - 1, {}


def one_round(env, action_count, seconds, seed):
    """Steps `env` with random actions for `seconds`; returns (steps, resets, elapsed seconds)."""
    actions = np.random.default_rng(seed).integers(0, action_count, size=ACTIONS)
    env.reset(seed=seed)
    steps = resets = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(1000):  # read the clock every 1,000 steps
            _, _, terminated, truncated, _ = env.step(int(actions[steps % ACTIONS]))
            steps += 1
            if terminated or truncated:
                env.reset()
                resets += 1
    return steps, resets, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="per environment, all rounds together")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # gymnasium's passive checker warns about observations that share memory

    frame = sp500_frame()
    made = gym.make("stocks-v0", df=frame, window_size=WINDOW, frame_bound=(WINDOW, len(frame)))
    envs = {"anytrading_gym_make": (made, 2), "anytrading_unwrapped": (made.unwrapped, 2),
            "numpy_replay_env": (ReplayEnv(frame["Close"].to_numpy()), 3)}
    rounds = {name: [] for name in envs}
    for r in range(args.rounds):
        for name, (env, action_count) in envs.items():
            rounds[name].append(one_round(env, action_count, args.seconds / args.rounds, seed=r))

    out = {"bench": "env_steps", "data": SP500.name, "rows": len(frame), "window": WINDOW,
           "episode_len": made.unwrapped._end_tick - made.unwrapped._start_tick}
    for name, results in rounds.items():
        rates = sorted(steps / elapsed for steps, _, elapsed in results)
        out[name] = {"steps": sum(r[0] for r in results), "resets": sum(r[1] for r in results),
                     "seconds": round(sum(r[2] for r in results), 2),
                     "steps_per_s_median": round(float(np.median(rates))),
                     "steps_per_s_min": round(rates[0]), "steps_per_s_max": round(rates[-1])}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
