//! The printable rate-card exhibit (SPEC 7): the core's [`Exhibit`] as a standalone HTML page,
//! Letter-sized, with the contract's SHA-256 in a footer repeated on every printed page.

use askama::Template;
use obc_core::design::exhibit::Exhibit;

#[derive(Template)]
#[template(path = "exhibit.html")]
struct ExhibitPage<'a> {
    e: &'a Exhibit,
}

/// Renders an exhibit as a complete HTML document.
pub fn render_exhibit(exhibit: &Exhibit) -> Result<String, askama::Error> {
    ExhibitPage { e: exhibit }.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use obc_core::Contract;

    #[test]
    fn exhibit_page_shows_amounts_and_the_hash_in_the_print_footer() {
        let source = include_str!("../../core/tests/contract_example.toml");
        let contract = Contract::parse(source).unwrap();
        let hash = obc_core::engine::sha256_hex(source.as_bytes());
        let exhibit = obc_core::design::exhibit::build(&contract, &hash).unwrap();
        let html = render_exhibit(&exhibit).unwrap();
        assert!(html.contains(&format!("SHA-256 <span class=\"hash\">{hash}</span>")));
        assert!(html.contains("@media print"));
        assert!(html.contains("position: fixed"));
        assert!(html.contains("size: Letter"));
        assert!(html.contains("$1,200.00"));
        assert!(html.contains("$600,000.00"));
        assert!(html.contains("attends fewer than 70% of offered sessions"));
    }
}
