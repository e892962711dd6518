"""The pure domain of Tocsin: alerts, grading, routing and the escalation state machine.

Standard library only; time always comes in as an argument.
"""
