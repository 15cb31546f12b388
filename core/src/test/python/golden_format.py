"""The record format the golden-value scripts write and Jacobian's tests read: `name|shape|values`, one record a
line, with the shape as comma-separated dimensions and the values as the repr of each float32."""
import torch


def fmt(name, t):
    t = torch.as_tensor(t).detach().to(torch.float32)
    shape = ",".join(str(d) for d in t.shape)
    values = ",".join(repr(float(v)) for v in t.reshape(-1))
    return f"{name}|{shape}|{values}\n"
