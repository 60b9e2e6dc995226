// Neural-network layers and parameters with PyTorch state_dict names.
