"""Two multiprocessing workers each hold 200 MB at the same time."""

import multiprocessing
import time

import numpy as np

OUTPUT = "/opt/ml/processing/output/result"


def hold(barrier):
    block = np.ones(200 * 1024 * 1024 // 8)
    barrier.wait()
    time.sleep(0.3)
    return float(block[0])


if __name__ == "__main__":
    barrier = multiprocessing.Barrier(2)
    workers = [multiprocessing.Process(target=hold, args=(barrier,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
