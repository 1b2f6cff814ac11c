"""Built-in ganbench plugins, registered through the `ganbench` entry-point group like any third-party plugin."""
