"""Who punches: employees signed in to the employees' user pool (personal mode), checked as API
Gateway's Cognito authorizer checks them."""
