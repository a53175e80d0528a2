"""Training speed of Stable-Baselines3's DQN and sb3-contrib's RecurrentPPO on gym-anytrading's stocks-v0 over the
repository's S&P 500 daily bars (window 10, as in env_steps.py); the peers of `tradesim bench agent`.

DQN: MlpPolicy with every SB3 default (net [64, 64], buffer 1e6, learning starts 100, train every 4 steps, batch 32);
it cannot take an LSTM. RecurrentPPO: MlpLstmPolicy with every default (n_steps 128, batch 128, 10 epochs, LSTM hidden
256, a separate critic LSTM). Only model.learn() is timed; steps/s = timesteps / wall time. Prints one JSON line.

Usage: python sb3_dqn.py [--timesteps 20000] [--threads 2] [--algos dqn,rppo]
"""
import argparse
import json
import time
import warnings

import gym_anytrading  # noqa: F401  (registers stocks-v0)
import gymnasium as gym
import sb3_contrib
import stable_baselines3
import torch
from sb3_contrib import RecurrentPPO
from stable_baselines3 import DQN

from common import sp500_frame

WINDOW = 10


def learn(algorithm, policy, timesteps, seed):
    frame = sp500_frame()
    env = gym.make("stocks-v0", df=frame, window_size=WINDOW, frame_bound=(WINDOW, len(frame)))
    start = time.perf_counter()
    model = algorithm(policy, env, seed=seed, device="cpu", verbose=0)
    built = time.perf_counter() - start
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    wall = time.perf_counter() - start
    return {"policy": policy, "timesteps": model.num_timesteps, "build_s": round(built, 2),
            "learn_wall_s": round(wall, 2), "steps_per_s": round(model.num_timesteps / wall, 1),
            "episodes": None if model.ep_info_buffer is None else len(model.ep_info_buffer)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--algos", default="dqn,rppo", help="dqn and/or rppo, comma-separated")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    algos = args.algos.split(",")
    out = {"bench": "sb3", "sb3": stable_baselines3.__version__, "sb3_contrib": sb3_contrib.__version__,
           "torch": torch.__version__, "threads": torch.get_num_threads(), "window": WINDOW}
    if "dqn" in algos:
        out["dqn"] = learn(DQN, "MlpPolicy", args.timesteps, args.seed)
    if "rppo" in algos:
        out["recurrent_ppo"] = learn(RecurrentPPO, "MlpLstmPolicy", args.timesteps, args.seed)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
