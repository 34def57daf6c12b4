"""The tutorial's chapters as declarative steps, in the order a walk takes them.

A chapter is one module holding one `STEP`; its explanation is `assets/explain/<id>.md`.
"""

from steps import install, postfix_blank, postfix_names, prereq

ALL_STEPS = (
    prereq.STEP,
    install.STEP,
    postfix_blank.STEP,
    postfix_names.STEP,
)
