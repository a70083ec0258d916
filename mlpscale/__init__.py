__version__ = "0.1.0"

# The one file of the package written by hand (nbdev keeps it): importing the package registers every model family in the
# registry of `mlpscale.models`, the way `import timm` does, so that a name such as 'Mixer_8-Wi_256-P_4' or 'resnet18_cifar'
# builds wherever `create_model` is called. The families register themselves when their modules are imported.
from . import models, softer, cifar_nets
