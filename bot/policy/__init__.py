"""The policy file turned into the domain's terms: rules, routes, people, who may act."""
