//! What each route needs, and what each role may. A route names one permission; a role is a
//! set of permissions, not a rank, so roles to come (a compliance analyst who reads cases and
//! clears sanctions hits, a reconciliation clerk, a vault operator) are new sets, not new
//! places in a line. Each operation names its permission where it is declared
//! (`crate::contract::Operation`); a route without one needs [`Permission::Administer`]: what
//! is forgotten is closed, not open.

use rialto_store::Role;

/// What a request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read accounts, transfers, payments, risk data, events.
    Read,
    /// Move money and change ledger and payment state: users, accounts, transfers, payments,
    /// refunds, settlements, credit scores, webhook endpoints.
    Write,
    /// Decide on held payments, label them, change users' status and KYC, backtest rules.
    Review,
    /// Keys, risk rules, lists and models, the audit log, the configuration.
    Administer,
}

use Permission::{Administer, Read, Review, Write};

/// Every role, with what it may.
pub const ROLES: &[(Role, &[Permission])] = &[
    (Role::Reader, &[Read]),
    (Role::Writer, &[Read, Write]),
    (Role::Reviewer, &[Read, Write, Review]),
    (Role::Admin, &[Read, Write, Review, Administer]),
];

impl Permission {
    /// The permission's name in error messages and the API description.
    pub fn as_str(self) -> &'static str {
        match self {
            Read => "read",
            Write => "write",
            Review => "review",
            Administer => "administer",
        }
    }

    /// The roles that have this permission, by name.
    pub fn roles(self) -> Vec<&'static str> {
        ROLES.iter().filter(|(_, ps)| ps.contains(&self)).map(|(r, _)| r.as_str()).collect()
    }
}

/// True when `role` has `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    ROLES.iter().any(|(r, ps)| *r == role && ps.contains(&permission))
}

/// Every role's name, for help texts and errors: `admin, reviewer, writer, reader`.
pub fn role_names() -> String {
    ROLES.iter().rev().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_sets_of_permissions() {
        assert!(allows(Role::Reader, Read) && !allows(Role::Reader, Write));
        assert!(allows(Role::Writer, Write) && !allows(Role::Writer, Review));
        assert!(allows(Role::Reviewer, Review) && !allows(Role::Reviewer, Administer));
        assert!(allows(Role::Admin, Administer));
        assert_eq!(Review.roles(), ["reviewer", "admin"]);
        assert_eq!(role_names(), "admin, reviewer, writer, reader");
    }
}
