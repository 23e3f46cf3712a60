package serve

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// A ConfigError is a listen or TLS configuration that cannot be right
// ([ListenAddr], [TLSConfig]). Its message names the flags that give it:
// serve's --listen and --insecure-listen, etcd's --cert-file, --key-file
// and --trusted-ca-file.
type ConfigError struct{ msg string }

func (e *ConfigError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &ConfigError{fmt.Sprintf(format, args...)}
}

// ListenAddr reads listen (host:port, or an http or https URL of one) and
// returns the scheme and the host:port to listen on. It refuses to expose
// etcd data in clear to the network: an address that is not loopback
// needs TLS (withTLS) or insecure. Every error is a *ConfigError.
func ListenAddr(listen string, withTLS, insecure bool) (scheme, addr string, err error) {
	scheme, addr = "http", listen
	if withTLS {
		scheme = "https"
	}
	if s, rest, ok := strings.Cut(listen, "://"); ok {
		switch {
		case s != "http" && s != "https":
			return "", "", configErrorf("--listen %q: want host:port, http://host:port or https://host:port", listen)
		case s == "https" && !withTLS:
			return "", "", configErrorf("--listen %s needs --cert-file and --key-file", listen)
		case s == "http" && withTLS:
			return "", "", configErrorf("--listen %s: TLS is on (--cert-file); give https://", listen)
		}
		addr = strings.TrimSuffix(rest, "/")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", "", configErrorf("--listen %q: %v (want host:port, http://host:port or https://host:port)", listen, err)
	}
	if withTLS || insecure || host == "localhost" {
		return scheme, addr, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return scheme, addr, nil
	}
	return "", "", configErrorf("--listen %s is not a loopback address: etcd data holds secrets; give --cert-file and --key-file (and --trusted-ca-file), or --insecure-listen", listen)
}

// Run answers on lis until ctx is done, then stops the server and
// returns nil; it returns Serve's error when serving fails first.
func (s *Server) Run(ctx context.Context, lis net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(lis) }()
	select {
	case <-ctx.Done():
		s.Stop()
		<-errc
		return nil
	case err := <-errc:
		return err
	}
}
