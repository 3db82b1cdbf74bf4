"""The network the documentation's gallery derives (the symgrad directive loads it by path)."""

import symgrad.functional as F


def linear_sigmoid_mse(x, w, b, t):
    """A linear layer, a sigmoid and the mean squared error against targets t."""
    return F.mse_loss(F.sigmoid(F.linear(x, w, b, name="z"), name="s"), t)
