using YamlDotNet.Serialization;

namespace Dragonfly.Dfdaemon.Config;

/// <summary>
/// The YAML file (<c>/etc/dragonfly/dfdaemon.yml</c>) as written by users of the original. Every key is optional; unknown keys
/// are an error (a typo must not silently change behaviour).
/// </summary>
public sealed class DfdaemonConfigFile
{
    [YamlMember(Alias = "port")] public int? Port { get; set; }

    [YamlMember(Alias = "address")] public string? Address { get; set; }

    [YamlMember(Alias = "hostIp")] public string? HostIp { get; set; }

    [YamlMember(Alias = "registry_mirror")] public RegistryMirrorSection? RegistryMirror { get; set; }

    [YamlMember(Alias = "proxies")] public List<ProxyRuleSection>? Proxies { get; set; }

    [YamlMember(Alias = "hijack_https")] public HijackHttpsSection? HijackHttps { get; set; }

    [YamlMember(Alias = "open_proxy")] public bool? OpenProxy { get; set; }

    [YamlMember(Alias = "verify_blob_access")] public bool? VerifyBlobAccess { get; set; }

    [YamlMember(Alias = "localrepo")] public string? LocalRepo { get; set; }

    [YamlMember(Alias = "localrepo_max_size")] public string? LocalRepoMaxSize { get; set; }

    [YamlMember(Alias = "workHome")] public string? WorkHome { get; set; }

    [YamlMember(Alias = "dfpath")] public string? DfPath { get; set; }

    [YamlMember(Alias = "ratelimit")] public string? RateLimit { get; set; }

    [YamlMember(Alias = "supernodes")] public List<string>? Supernodes { get; set; }

    [YamlMember(Alias = "certpem")] public string? CertPem { get; set; }

    [YamlMember(Alias = "keypem")] public string? KeyPem { get; set; }

    [YamlMember(Alias = "maxprocs")] public int? MaxProcs { get; set; }

    [YamlMember(Alias = "verbose")] public bool? Verbose { get; set; }

    [YamlMember(Alias = "peerPort")] public int? PeerPort { get; set; }

    [YamlMember(Alias = "streamMode")] public bool? StreamMode { get; set; }

    [YamlMember(Alias = "dfget_flags")] public List<string>? DfgetFlags { get; set; }

    [YamlMember(Alias = "localIP")] public string? LocalIp { get; set; }

    [YamlMember(Alias = "logConfig")] public Dictionary<string, object>? LogConfig { get; set; }
}

public sealed class RegistryMirrorSection
{
    [YamlMember(Alias = "remote")] public string? Remote { get; set; }

    [YamlMember(Alias = "certs")] public List<string>? Certs { get; set; }

    [YamlMember(Alias = "insecure")] public bool Insecure { get; set; }

    [YamlMember(Alias = "direct")] public bool Direct { get; set; }
}

public sealed class ProxyRuleSection
{
    [YamlMember(Alias = "regx")] public string? Regx { get; set; }

    [YamlMember(Alias = "use_https")] public bool UseHttps { get; set; }

    [YamlMember(Alias = "direct")] public bool Direct { get; set; }

    [YamlMember(Alias = "redirect")] public string? Redirect { get; set; }
}

public sealed class HijackHttpsSection
{
    [YamlMember(Alias = "cert")] public string? Cert { get; set; }

    [YamlMember(Alias = "key")] public string? Key { get; set; }

    [YamlMember(Alias = "hosts")] public List<HijackHostSection>? Hosts { get; set; }
}

public sealed class HijackHostSection
{
    [YamlMember(Alias = "regx")] public string? Regx { get; set; }

    [YamlMember(Alias = "insecure")] public bool Insecure { get; set; }

    [YamlMember(Alias = "certs")] public List<string>? Certs { get; set; }

    [YamlMember(Alias = "port")] public int? Port { get; set; }
}
