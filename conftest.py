pytest_plugins = ["stacktools.pytest_plugin"]
