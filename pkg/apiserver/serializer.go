package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// NegotiatedSerializer offers JSON and YAML only. The group's types have no protobuf
// marshalling, so advertising protobuf would make clients that prefer it fail with 406/500;
// without it they fall back to JSON.
var NegotiatedSerializer runtime.NegotiatedSerializer = withoutProtobuf{Codecs}

type withoutProtobuf struct {
	runtime.NegotiatedSerializer
}

func (s withoutProtobuf) SupportedMediaTypes() []runtime.SerializerInfo {
	var infos []runtime.SerializerInfo
	for _, info := range s.NegotiatedSerializer.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			infos = append(infos, info)
		}
	}
	return infos
}
