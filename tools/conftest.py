def pytest_addoption(parser):
    parser.addoption("--site", default="build/site", help="folder of the built course site")
