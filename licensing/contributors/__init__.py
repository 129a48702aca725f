"""Contributors acting for themselves: claiming the pseudonymous id of their consent records (and
the balance owed to their payee address), seeing where their data went and what it earned,
withdrawing themselves, and taking everything the instance holds about them with them."""
