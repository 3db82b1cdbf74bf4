"""The network layer: forward functions over symbolic tensors, their graph of scalar variables,
the chain rule over it, the scalar lemmas of non-polynomial layers, and each layer's closed form."""
