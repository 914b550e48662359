"""Web views of the supply-chain app, one module per page family: the
landing page, chains, receivables (register, 确权), financing for banks, and
vouchers. Every rule is in `chanrong.supplychain.services`; a view turns a
request into a call and the answer into a page."""
