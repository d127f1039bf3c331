"""The HCX deployment plan: address arithmetic, appliance sizing, the check rules and the ports list."""
