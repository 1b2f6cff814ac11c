"""A two-layer MLP GAN plugin for ganbench."""
