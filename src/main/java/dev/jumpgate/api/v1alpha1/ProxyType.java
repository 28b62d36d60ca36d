package dev.jumpgate.api.v1alpha1;

/** The protocol of an egress proxy between the agent and the first SSH host. */
public enum ProxyType {
    /** An HTTP proxy that tunnels with CONNECT (RFC 9110 9.3.6), as Squid and most corporate proxies do. */
    HTTPConnect,
    /** A SOCKS5 proxy (RFC 1928), with username/password authentication (RFC 1929) when credentials are given. */
    SOCKS5
}
